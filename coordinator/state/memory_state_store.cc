#include <algorithm>

#include "coordinator/state/state_store.h"

namespace reelfarm {

absl::Status MemoryStateStore::PutSweep(const v1::SweepStatus& sweep) {
  std::lock_guard<std::mutex> lock(mu_);
  sweeps_[sweep.id()] = sweep;
  return absl::OkStatus();
}

absl::Status MemoryStateStore::PutJobs(const std::vector<JobRecord>& jobs) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const JobRecord& job : jobs) jobs_[{job.sweep_id, job.slot}] = job;
  return absl::OkStatus();
}

absl::Status MemoryStateStore::PutLease(const LeaseRecord& lease) {
  std::lock_guard<std::mutex> lock(mu_);
  leases_[lease.epoch] = lease;
  max_epoch_ = std::max(max_epoch_, lease.epoch);
  return absl::OkStatus();
}

absl::Status MemoryStateStore::DeleteLease(uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  leases_.erase(epoch);
  return absl::OkStatus();
}

absl::Status MemoryStateStore::Load(RecoveredState* state) {
  std::lock_guard<std::mutex> lock(mu_);
  *state = RecoveredState();
  for (const auto& [id, sweep] : sweeps_) state->sweeps.push_back(sweep);
  for (const auto& [key, job] : jobs_) state->jobs.push_back(job);
  for (const auto& [epoch, lease] : leases_) state->leases.push_back(lease);
  state->max_epoch = max_epoch_;
  return absl::OkStatus();
}

}  // namespace reelfarm
