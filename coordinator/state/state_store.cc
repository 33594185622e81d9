#include "coordinator/state/state_store.h"

#include <utility>

namespace reelfarm {

void StateBatch::PutSweep(const v1::SweepStatus& sweep) {
  ops_.push_back({Kind::kSweep, sweep, {}, {}});
}

void StateBatch::PutJobs(std::vector<JobRecord> jobs) {
  if (jobs.empty()) return;
  ops_.push_back({Kind::kJobs, {}, std::move(jobs), {}});
}

void StateBatch::PutLease(const LeaseRecord& lease) {
  ops_.push_back({Kind::kLease, {}, {}, lease});
}

void StateBatch::DeleteLease(uint64_t epoch) {
  LeaseRecord lease;
  lease.epoch = epoch;
  ops_.push_back({Kind::kDeleteLease, {}, {}, std::move(lease)});
}

absl::Status StateStore::PutSweep(const v1::SweepStatus& sweep) {
  StateBatch batch;
  batch.PutSweep(sweep);
  return Write(batch);
}

absl::Status StateStore::PutJobs(const std::vector<JobRecord>& jobs) {
  StateBatch batch;
  batch.PutJobs(jobs);
  return batch.empty() ? absl::OkStatus() : Write(batch);
}

absl::Status StateStore::PutLease(const LeaseRecord& lease) {
  StateBatch batch;
  batch.PutLease(lease);
  return Write(batch);
}

absl::Status StateStore::DeleteLease(uint64_t epoch) {
  StateBatch batch;
  batch.DeleteLease(epoch);
  return Write(batch);
}

}  // namespace reelfarm
