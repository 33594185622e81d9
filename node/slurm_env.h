#ifndef REELFARM_NODE_SLURM_ENV_H_
#define REELFARM_NODE_SLURM_ENV_H_

#include <optional>

#include "node/devices.h"
#include "node/group/process_group.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm {

// The SLURM job this process runs in, from SLURM_JOB_ID, SLURM_ARRAY_JOB_ID,
// SLURM_ARRAY_TASK_ID, SLURM_STEP_ID, SLURMD_NODENAME and
// SLURM_RESTART_COUNT; nullopt outside SLURM (no SLURM_JOB_ID).
std::optional<v1::SlurmProvenance> SlurmProvenanceFromEnvironment(
    const GetEnvFn& getenv);

// The process group of a SLURM step's tasks: rank SLURM_PROCID of
// SLURM_NTASKS, named after the job, step and restart so a requeued job
// forms a new group. nullopt outside a step.
std::optional<ProcessGroupOptions> ProcessGroupFromSlurm(
    const GetEnvFn& getenv);

}  // namespace reelfarm

#endif  // REELFARM_NODE_SLURM_ENV_H_
