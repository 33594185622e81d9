// The life of a lease after its grant: renewal, results, hand-back and
// expiry.

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/lease_queue/lease_queue_internal.h"
#include "coordinator/metrics/coordinator_metrics.h"

namespace reelfarm {

using lease_queue_internal::kLeasePrefix;
using lease_queue_internal::SetState;

LeaseQueue::LeaseEntry* LeaseQueue::FindLeaseLocked(const std::string& lease_id,
                                                    uint64_t epoch) {
  uint64_t parsed = 0;
  if (lease_id.rfind(kLeasePrefix, 0) != 0 ||
      !absl::SimpleAtoi(lease_id.substr(sizeof(kLeasePrefix) - 1), &parsed) ||
      parsed != epoch) {
    return nullptr;
  }
  auto it = leases_.find(epoch);
  return it == leases_.end() ? nullptr : &it->second;
}

void LeaseQueue::DropLeaseLocked(uint64_t epoch, StateBatch* batch) {
  ForgetLeaseLocked(epoch);
  batch->DeleteLease(epoch);  // an orphan expires on recovery
}

void LeaseQueue::ForgetLeaseLocked(uint64_t epoch) {
  if (auto it = leases_.find(epoch); it != leases_.end()) {
    // Its lane's progress ends with it, not at the node's next heartbeat.
    auto node = nodes_.find(it->second.node_id);
    if (node != nodes_.end()) {
      auto activity = node->second.activity.find(it->second.lane);
      if (activity != node->second.activity.end() &&
          activity->second.lease_id() == LeaseIdFor(epoch)) {
        node->second.activity.erase(activity);
      }
    }
    leases_.erase(it);
  }
  change_cv_.notify_all();  // WaitForLeasesToEnd
}

bool LeaseQueue::WaitForLeasesToEnd(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return change_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] {
    return leases_.empty() || stop_waiting_for_leases_;
  }) && leases_.empty();
}

void LeaseQueue::StopWaitingForLeases() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_waiting_for_leases_ = true;
  change_cv_.notify_all();
}

std::vector<std::string> LeaseQueue::Heartbeat(
    const std::string& node_id, const std::vector<std::string>& lease_ids) {
  std::vector<v1::LeaseProgress> progress(lease_ids.size());
  for (size_t i = 0; i < lease_ids.size(); ++i) {
    progress[i].set_lease_id(lease_ids[i]);
  }
  return HeartbeatWithProgress(node_id, progress);
}

std::vector<std::string> LeaseQueue::HeartbeatWithProgress(
    const std::string& node_id,
    const std::vector<v1::LeaseProgress>& progress) {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_->Now();
  NodeEntry& node = TouchNodeLocked(node_id);
  node.activity.clear();  // lanes not named are idle now
  std::vector<std::string> lost;
  for (const v1::LeaseProgress& p : progress) {
    const std::string& id = p.lease_id();
    uint64_t epoch = 0;
    absl::SimpleAtoi(id.substr(std::min(id.size(), sizeof(kLeasePrefix) - 1)),
                     &epoch);
    LeaseEntry* lease = FindLeaseLocked(id, epoch);
    bool live = lease != nullptr && lease->node_id == node_id;
    if (live) {
      live = std::any_of(lease->slots.begin(), lease->slots.end(),
                         [&](uint64_t s) {
                           return lease->sweep->jobs[s].lease_epoch == epoch;
                         });
      if (!live) {  // every job of it was cancelled
        StateBatch batch;
        DropLeaseLocked(epoch, &batch);
        store_->Write(batch).IgnoreError();
      }
    }
    if (!live) {
      lost.push_back(id);
      continue;
    }
    lease->expire = now + options_.lease_ttl;
    store_->PutLease(lease->Record()).IgnoreError();
    // The lane is the one the lease was granted to, whatever the node says.
    v1::LaneActivity& activity = node.activity[lease->lane];
    activity.set_lane(lease->lane);
    activity.set_lease_id(id);
    activity.set_job_id(p.job_id());
    activity.set_fraction(std::clamp(p.fraction(), 0.0, 1.0));
    *activity.mutable_devices() = p.devices();
  }
  return lost;
}

namespace {
// The slot of `job_id` among a lease's slots, or -1.
template <typename Sweep>
int64_t SlotOf(const Sweep& sweep, const std::vector<uint64_t>& slots,
               const std::string& job_id) {
  for (uint64_t s : slots) {
    if (sweep.jobs[s].id == job_id) return static_cast<int64_t>(s);
  }
  return -1;
}
}  // namespace

absl::StatusOr<bool> LeaseQueue::Complete(const std::string& lease_id,
                                          uint64_t epoch,
                                          const v1::JobResult& result) {
  absl::StatusOr<bool> accepted = CompleteUnsynced(lease_id, epoch, result);
  if (accepted.ok() && *accepted) {
    // Acknowledged only once durable; results that arrive together share
    // one flush.
    if (absl::Status st = store_->Sync(); !st.ok()) return st;
    if (options_.metrics != nullptr) {
      options_.metrics->JobCompleted(result.node_id(),
                                     result.timings().render_seconds());
    }
  }
  return accepted;
}

absl::StatusOr<bool> LeaseQueue::CompleteUnsynced(const std::string& lease_id,
                                                  uint64_t epoch,
                                                  const v1::JobResult& result) {
  std::lock_guard<std::mutex> lock(mu_);
  LeaseEntry* lease = FindLeaseLocked(lease_id, epoch);
  if (lease == nullptr) return false;
  SweepEntry& sweep = *lease->sweep;
  const int64_t slot = SlotOf(sweep, lease->slots, result.job_id());
  if (slot < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("job ", result.job_id(), " is not in ", lease_id));
  }
  JobSlot& j = sweep.jobs[slot];
  if (j.lease_epoch != epoch || j.state != v1::JOB_STATE_LEASED) return false;
  j.lease_epoch = 0;
  j.last_error.clear();
  j.result = std::make_unique<v1::JobResult>(result);
  j.result->set_attempt(j.attempts);
  SetState(sweep.status.mutable_counts(), &j.state, v1::JOB_STATE_DONE);
  // The result and, when it was the lease's last job, the lease's end: one
  // transaction.
  const bool spent = LeaseSpentLocked(*lease);
  StateBatch batch;
  batch.PutJobs({sweep.Record(slot)});
  if (spent) batch.DeleteLease(epoch);
  if (absl::Status st = store_->Write(batch); !st.ok()) {
    // Not acknowledged, so not done: the node retries or the lease expires.
    j.result.reset();
    j.lease_epoch = epoch;
    SetState(sweep.status.mutable_counts(), &j.state, v1::JOB_STATE_LEASED);
    return st;
  }
  FinishJobLocked(sweep, slot);
  IndexDoneLocked(sweep, slot);
  TouchNodeLocked(lease->node_id).failures_in_a_row = 0;
  if (spent) ForgetLeaseLocked(epoch);
  return true;
}

bool LeaseQueue::LeaseSpentLocked(const LeaseEntry& lease) const {
  return std::none_of(lease.slots.begin(), lease.slots.end(), [&](uint64_t s) {
    return lease.sweep->jobs[s].lease_epoch == lease.epoch;
  });
}

absl::StatusOr<FailOutcome> LeaseQueue::Fail(const std::string& lease_id,
                                             uint64_t epoch,
                                             const v1::JobResult& result,
                                             bool retryable) {
  absl::StatusOr<FailOutcome> outcome =
      FailUnsynced(lease_id, epoch, result, retryable);
  if (outcome.ok() && outcome->accepted) {
    if (absl::Status st = store_->Sync(); !st.ok()) return st;
  }
  return outcome;
}

absl::StatusOr<FailOutcome> LeaseQueue::FailUnsynced(
    const std::string& lease_id, uint64_t epoch, const v1::JobResult& result,
    bool retryable) {
  std::lock_guard<std::mutex> lock(mu_);
  FailOutcome outcome;
  LeaseEntry* lease = FindLeaseLocked(lease_id, epoch);
  if (lease == nullptr) return outcome;
  SweepEntry& sweep = *lease->sweep;
  const int64_t slot = SlotOf(sweep, lease->slots, result.job_id());
  if (slot < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("job ", result.job_id(), " is not in ", lease_id));
  }
  if (sweep.jobs[slot].lease_epoch != epoch) return outcome;
  outcome.accepted = true;
  std::vector<JobRecord> dirty;
  NoteFailedOnLocked(sweep.jobs[slot], lease->node_id);
  if (retryable) NoteFailureLocked(lease->node_id);
  RequeueLocked(sweep, slot, result.error(), /*give_up=*/!retryable, &dirty);
  outcome.will_retry = sweep.jobs[slot].state == v1::JOB_STATE_PENDING;
  StateBatch batch;
  batch.PutJobs(std::move(dirty));
  if (LeaseSpentLocked(*lease)) DropLeaseLocked(epoch, &batch);
  store_->Write(batch).IgnoreError();  // a lost failure is retried anyway
  return outcome;
}

absl::Status LeaseQueue::Release(const std::string& lease_id, uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  LeaseEntry* lease = FindLeaseLocked(lease_id, epoch);
  if (lease == nullptr) return absl::OkStatus();
  SweepEntry& sweep = *lease->sweep;
  std::vector<JobRecord> dirty;
  for (uint64_t s : lease->slots) {
    JobSlot& j = sweep.jobs[s];
    if (j.lease_epoch != epoch) continue;
    --j.attempts;  // handed back, not tried
    RequeueLocked(sweep, s, j.last_error, /*give_up=*/false, &dirty);
  }
  // The re-queue and the lease's deletion in one transaction: a crash
  // between them would leave jobs leased under no lease.
  StateBatch batch;
  batch.PutJobs(std::move(dirty));
  DropLeaseLocked(epoch, &batch);
  return store_->Write(batch);
}

int LeaseQueue::ExpireLeases() {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_->Now();
  std::vector<uint64_t> expired;
  for (const auto& [epoch, lease] : leases_) {
    if (lease.expire <= now) expired.push_back(epoch);
  }
  std::vector<JobRecord> dirty;
  StateBatch batch;
  for (uint64_t epoch : expired) {
    LeaseEntry& lease = leases_.at(epoch);
    for (uint64_t s : lease.slots) {
      JobSlot& j = lease.sweep->jobs[s];
      if (j.lease_epoch != epoch) continue;
      NoteFailedOnLocked(j, lease.node_id);
      // A node that dies or goes quiet has not shown the job is bad: the
      // try does not count against its attempts, only against a larger
      // budget that still stops a job that takes every node down with it.
      --j.attempts;
      ++j.lost_leases;
      const bool give_up = j.lost_leases >= options_.max_lost_leases;
      RequeueLocked(*lease.sweep, s,
                    give_up
                        ? absl::StrCat("lost its lease ", j.lost_leases,
                                       " times (the node died or stopped "
                                       "answering), last on node ",
                                       lease.node_id)
                        : absl::StrCat("lease expired on node ", lease.node_id),
                    give_up, &dirty);
    }
    DropLeaseLocked(epoch, &batch);
  }
  // Every expiry's re-queue and deletion in one transaction.
  batch.PutJobs(std::move(dirty));
  store_->Write(batch).IgnoreError();
  if (options_.metrics != nullptr) {
    options_.metrics->LeasesExpired(static_cast<int>(expired.size()));
  }
  return static_cast<int>(expired.size());
}

}  // namespace reelfarm
