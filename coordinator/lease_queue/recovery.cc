#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/lease_queue/lease_queue_internal.h"

// Rebuilding the queue's tables from its store after a restart.

namespace reelfarm {

using lease_queue_internal::AdjustCount;
using lease_queue_internal::IsFinal;

absl::Status LeaseQueue::Recover() {
  RecoveredState state;
  if (absl::Status st = store_->Load(&state); !st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  sweeps_.clear();
  leases_.clear();
  // In submission order: the newest sweep writing into a folder owns its
  // manifest.
  std::stable_sort(
      state.sweeps.begin(), state.sweeps.end(),
      [](const v1::SweepStatus& a, const v1::SweepStatus& b) {
        return std::make_pair(a.submitted().seconds(), a.submitted().nanos()) <
               std::make_pair(b.submitted().seconds(), b.submitted().nanos());
      });
  for (const v1::SweepStatus& status : state.sweeps) {
    absl::StatusOr<SweepExpander> ex = SweepExpander::Create(status.spec());
    if (!ex.ok()) return ex.status();
    auto entry = std::make_unique<SweepEntry>(*std::move(ex));
    entry->status = status;
    entry->max_attempts = status.spec().max_attempts() > 0
                              ? status.spec().max_attempts()
                              : options_.default_max_attempts;
    sweeps_.push_back(std::move(entry));
  }
  for (JobRecord& r : state.jobs) {
    SweepEntry* sweep = FindSweep(r.sweep_id);
    if (sweep == nullptr) continue;
    if (sweep->jobs.size() <= r.slot) sweep->jobs.resize(r.slot + 1);
    JobSlot& j = sweep->jobs[r.slot];
    j.index = r.index;
    j.id = std::move(r.job_id);
    j.state = r.state;
    j.attempts = r.attempts;
    j.lost_leases = r.lost_leases;
    j.lease_epoch = r.lease_epoch;
    j.last_error = std::move(r.last_error);
    if (r.state == v1::JOB_STATE_DONE) {
      j.result = std::make_unique<v1::JobResult>(std::move(r.result));
    }
  }
  done_.clear();
  for (auto& sweep : sweeps_) {
    v1::SweepCounts* c = sweep->status.mutable_counts();
    *c = v1::SweepCounts();
    c->set_total(sweep->jobs.size());
    for (uint64_t s = 0; s < sweep->jobs.size(); ++s) {
      const JobSlot& j = sweep->jobs[s];
      AdjustCount(c, j.state, +1);
      if (j.state == v1::JOB_STATE_PENDING) sweep->pending.push_back(s);
      if (IsFinal(j.state)) sweep->finished_order.push_back(s);
      if (j.state == v1::JOB_STATE_DONE) IndexDoneLocked(*sweep, s);
    }
    // A re-queue logged just before a crash, its sweep's state not yet.
    if (c->pending() + c->leased() > 0 &&
        sweep->status.state() != v1::SWEEP_STATE_RUNNING) {
      sweep->status.set_state(v1::SWEEP_STATE_RUNNING);
      sweep->status.clear_finished();
    }
  }
  for (const LeaseRecord& r : state.leases) {
    SweepEntry* sweep = FindSweep(r.sweep_id);
    if (sweep == nullptr) continue;
    LeaseEntry lease;
    lease.epoch = r.epoch;
    lease.sweep = sweep;
    lease.slots = r.slots;
    lease.node_id = r.node_id;
    lease.lane = r.lane;
    // Holders get one full TTL to reconnect after the restart: the time the
    // coordinator was down is not theirs to lose.
    lease.expire = std::max(absl::FromUnixMillis(r.expire_unix_ms),
                            clock_->Now() + options_.lease_ttl);
    leases_.emplace(r.epoch, std::move(lease));
  }
  next_epoch_ = state.max_epoch + 1;
  RepairLocked();
  for (auto& sweep : sweeps_) RefreshSweepStateLocked(*sweep);
  return absl::OkStatus();
}

void LeaseQueue::RepairLocked() {
  // What a crash could leave before transitions were one transaction each
  // (a store written by an older version): a leased job whose lease is
  // gone, which would never expire. Each is queued again, and said.
  std::vector<JobRecord> dirty;
  for (auto& sweep : sweeps_) {
    v1::SweepCounts* counts = sweep->status.mutable_counts();
    for (uint64_t s = 0; s < sweep->jobs.size(); ++s) {
      JobSlot& j = sweep->jobs[s];
      std::string why;
      if (j.state == v1::JOB_STATE_LEASED) {
        auto lease = leases_.find(j.lease_epoch);
        const bool held = lease != leases_.end() &&
                          lease->second.sweep == sweep.get() &&
                          std::count(lease->second.slots.begin(),
                                     lease->second.slots.end(), s) > 0;
        if (!held) {
          why = absl::StrCat("leased under lease ", j.lease_epoch,
                             ", which is gone");
        }
      }
      if (why.empty()) continue;
      LogWarning("recovery: job ", j.id, " of sweep ", sweep->status.id(),
                 " was ", why, "; queued again");
      AdjustCount(counts, j.state, -1);
      AdjustCount(counts, v1::JOB_STATE_PENDING, +1);
      j.state = v1::JOB_STATE_PENDING;
      j.lease_epoch = 0;
      sweep->pending.push_back(s);
      dirty.push_back(sweep->Record(s));
    }
    if (counts->pending() > 0 &&
        sweep->status.state() != v1::SWEEP_STATE_RUNNING) {
      sweep->status.set_state(v1::SWEEP_STATE_RUNNING);
      sweep->status.clear_finished();
    }
  }
  if (absl::Status st = store_->PutJobs(dirty); !st.ok()) {
    LogWarning("recovery: saving the repairs: ", st.ToString());
  }
}

}  // namespace reelfarm
