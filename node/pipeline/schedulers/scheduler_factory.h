#ifndef REELFARM_NODE_PIPELINE_SCHEDULERS_SCHEDULER_FACTORY_H_
#define REELFARM_NODE_PIPELINE_SCHEDULERS_SCHEDULER_FACTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/pipeline/schedulers/scheduler.h"
#include "node/pipeline/schedulers/scheduler_config.h"

namespace reelfarm::pipeline {

// Builds a scheduler the way diffusers' Class.from_config(config, **kwargs)
// does. Names:
//   ddim              DDIMScheduler
//   euler             EulerDiscreteScheduler
//   euler_ancestral   EulerAncestralDiscreteScheduler
//   dpmpp_2m          DPMSolverMultistepScheduler, algorithm_type
//                     "dpmsolver++", solver_order 2
//   dpmpp_2m_karras   the same with use_karras_sigmas
// The diffusers class names themselves are accepted too and take the config
// as it is. Unknown names and invalid config values are InvalidArgument.
absl::StatusOr<std::unique_ptr<Scheduler>> MakeScheduler(
    const std::string& name, const SchedulerConfig& config);

// The short names above, for messages and flags.
const std::vector<std::string>& SchedulerNames();

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_SCHEDULERS_SCHEDULER_FACTORY_H_
