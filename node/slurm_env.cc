#include "node/slurm_env.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace reelfarm {

std::optional<v1::SlurmProvenance> SlurmProvenanceFromEnvironment(
    const GetEnvFn& getenv) {
  const auto value = [&](const char* name) {
    const char* v = getenv(name);
    return v == nullptr ? std::string()
                        : std::string(absl::StripAsciiWhitespace(v));
  };
  v1::SlurmProvenance p;
  p.set_job_id(value("SLURM_JOB_ID"));
  if (p.job_id().empty()) return std::nullopt;
  p.set_array_job_id(value("SLURM_ARRAY_JOB_ID"));
  p.set_array_task_id(value("SLURM_ARRAY_TASK_ID"));
  p.set_step_id(value("SLURM_STEP_ID"));
  p.set_node_name(value("SLURMD_NODENAME"));
  uint32_t restarts = 0;
  // Unset on a job's first run.
  if (absl::SimpleAtoi(value("SLURM_RESTART_COUNT"), &restarts)) {
    p.set_restart_count(restarts);
  }
  return p;
}

std::optional<ProcessGroupOptions> ProcessGroupFromSlurm(
    const GetEnvFn& getenv) {
  const auto value = [&](const char* name) {
    const char* v = getenv(name);
    return v == nullptr ? std::string()
                        : std::string(absl::StripAsciiWhitespace(v));
  };
  ProcessGroupOptions o;
  const std::string job = value("SLURM_JOB_ID");
  if (job.empty() || !absl::SimpleAtoi(value("SLURM_PROCID"), &o.rank) ||
      !absl::SimpleAtoi(value("SLURM_NTASKS"), &o.size)) {
    return std::nullopt;
  }
  const std::string restarts = value("SLURM_RESTART_COUNT");
  o.name = absl::StrCat("slurm-", job, ".", value("SLURM_STEP_ID"), ".",
                        restarts.empty() ? "0" : restarts);
  return o;
}

}  // namespace reelfarm
