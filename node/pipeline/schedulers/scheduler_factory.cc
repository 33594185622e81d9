#include "node/pipeline/schedulers/scheduler_factory.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "node/pipeline/schedulers/ddim.h"
#include "node/pipeline/schedulers/dpm_solver_multistep.h"
#include "node/pipeline/schedulers/euler.h"

namespace reelfarm::pipeline {
namespace {

template <typename T>
absl::StatusOr<std::unique_ptr<Scheduler>> Upcast(
    absl::StatusOr<std::unique_ptr<T>> made) {
  if (!made.ok()) return made.status();
  return std::unique_ptr<Scheduler>(*std::move(made));
}

}  // namespace

const std::vector<std::string>& SchedulerNames() {
  static const auto* names = new std::vector<std::string>{
      "ddim", "euler", "euler_ancestral", "dpmpp_2m", "dpmpp_2m_karras"};
  return *names;
}

absl::StatusOr<std::unique_ptr<Scheduler>> MakeScheduler(
    const std::string& name, const SchedulerConfig& config) {
  if (name == "ddim" || name == "DDIMScheduler") {
    return Upcast(DdimScheduler::Create(config));
  }
  if (name == "euler" || name == "EulerDiscreteScheduler") {
    return Upcast(EulerScheduler::Create(config, /*ancestral=*/false));
  }
  if (name == "euler_ancestral" || name == "EulerAncestralDiscreteScheduler") {
    return Upcast(EulerScheduler::Create(config, /*ancestral=*/true));
  }
  if (name == "DPMSolverMultistepScheduler") {
    return Upcast(DpmSolverMultistepScheduler::Create(config));
  }
  if (name == "dpmpp_2m" || name == "dpmpp_2m_karras") {
    SchedulerConfig c = config;
    c.algorithm_type = "dpmsolver++";
    c.solver_order = 2;
    if (name == "dpmpp_2m_karras") c.use_karras_sigmas = true;
    return Upcast(DpmSolverMultistepScheduler::Create(c));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown scheduler '", name, "' (",
                   absl::StrJoin(SchedulerNames(), ", "), ")"));
}

}  // namespace reelfarm::pipeline
