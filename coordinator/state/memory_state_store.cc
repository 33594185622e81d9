#include <algorithm>

#include "coordinator/state/state_store.h"

namespace reelfarm {

absl::Status MemoryStateStore::Write(const StateBatch& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const StateBatch::Op& op : batch.ops()) {
    switch (op.kind) {
      case StateBatch::Kind::kSweep:
        sweeps_[op.sweep.id()] = op.sweep;
        break;
      case StateBatch::Kind::kJobs:
        for (const JobRecord& job : op.jobs) {
          jobs_[{job.sweep_id, job.slot}] = job;
        }
        break;
      case StateBatch::Kind::kLease:
        leases_[op.lease.epoch] = op.lease;
        max_epoch_ = std::max(max_epoch_, op.lease.epoch);
        break;
      case StateBatch::Kind::kDeleteLease:
        leases_.erase(op.lease.epoch);
        break;
    }
  }
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
