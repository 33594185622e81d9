// Resuming sweeps and reusing finished jobs across sweeps.

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/lease_queue/lease_queue_internal.h"

namespace reelfarm {

using lease_queue_internal::SetState;

void LeaseQueue::IndexDoneLocked(const SweepEntry& sweep, uint64_t slot) {
  done_.insert_or_assign(sweep.jobs[slot].id, DoneRef{&sweep, slot});
}

void LeaseQueue::UnindexDoneLocked(const SweepEntry& sweep, uint64_t slot) {
  auto it = done_.find(sweep.jobs[slot].id);
  if (it == done_.end() || it->second.sweep != &sweep ||
      it->second.slot != slot) {
    return;
  }
  done_.erase(it);
  // Another sweep may hold the same job finished: it takes the entry.
  for (const auto& other : sweeps_) {
    if (other.get() == &sweep) continue;
    for (uint64_t s : other->finished_order) {
      const JobSlot& j = other->jobs[s];
      if (j.state == v1::JOB_STATE_DONE && j.id == sweep.jobs[slot].id) {
        IndexDoneLocked(*other, s);
        return;
      }
    }
  }
}

void LeaseQueue::FindReusableResults(
    const SweepEntry& entry, const std::string& output_dir,
    std::vector<std::pair<uint64_t, v1::JobResult>>* reused) {
  struct Candidate {
    uint64_t slot;
    std::string from_sweep;
    std::string from_dir;
    v1::JobResult result;
  };
  std::vector<Candidate> candidates;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_.empty()) return;
    for (uint64_t s = 0; s < entry.jobs.size(); ++s) {
      auto it = done_.find(entry.jobs[s].id);
      if (it == done_.end()) continue;
      const SweepEntry& from = *it->second.sweep;
      candidates.push_back({s, from.status.id(),
                            from.status.spec().output_dir(),
                            *from.jobs[it->second.slot].result});
    }
  }
  // Files are read without the lock: hashing a big sweep takes a while.
  for (Candidate& c : candidates) {
    if (options_.verifier != nullptr) {
      const absl::Status st =
          c.from_dir == output_dir
              ? options_.verifier->Verify(output_dir, c.result)
              : options_.verifier->Adopt(c.from_dir, output_dir, c.result);
      if (!st.ok()) {
        LogInfo("job ", entry.jobs[c.slot].id,
                " renders again: ", st.message());
        continue;
      }
    }
    if (c.result.reused_from_sweep().empty()) {
      c.result.set_reused_from_sweep(c.from_sweep);
    }
    reused->emplace_back(c.slot, std::move(c.result));
  }
}

absl::StatusOr<SubmitResult> LeaseQueue::ResubmitExisting(
    const SubmitResult& submitted) {
  absl::StatusOr<SubmitResult> resumed = Resume(submitted.sweep_id);
  if (!resumed.ok()) return resumed.status();
  resumed->jobs = submitted.jobs;
  resumed->duplicates_merged = submitted.duplicates_merged;
  return resumed;
}

absl::StatusOr<SubmitResult> LeaseQueue::Resume(const std::string& sweep_id) {
  struct Check {
    uint64_t slot;
    uint32_t attempt;
    v1::JobResult result;
  };
  std::vector<Check> checks;
  std::string output_dir;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const SweepEntry* sweep = FindSweep(sweep_id);
    if (sweep == nullptr) {
      return absl::NotFoundError(absl::StrCat("no sweep ", sweep_id));
    }
    output_dir = sweep->status.spec().output_dir();
    if (options_.verifier != nullptr) {
      for (uint64_t s = 0; s < sweep->jobs.size(); ++s) {
        const JobSlot& j = sweep->jobs[s];
        if (j.state == v1::JOB_STATE_DONE) {
          checks.push_back({s, j.result->attempt(), *j.result});
        }
      }
    }
  }
  std::vector<std::pair<uint64_t, std::string>> broken;
  absl::flat_hash_map<uint64_t, uint32_t> attempt;
  for (const Check& c : checks) {
    absl::Status st = options_.verifier->Verify(output_dir, c.result);
    if (st.ok()) continue;
    // Set aside so the job can be published afresh; a job that changed
    // meanwhile is not re-queued below, and finds its files under
    // .discarded/ if anyone needs them.
    if (absl::Status moved = options_.verifier->Discard(output_dir, c.result);
        !moved.ok()) {
      LogWarning("sweep ", sweep_id, ": ", moved.ToString());
    }
    broken.emplace_back(c.slot, std::string(st.message()));
    attempt[c.slot] = c.attempt;
  }

  std::unique_lock<std::mutex> lock(mu_);
  SweepEntry* sweep = FindSweep(sweep_id);
  std::vector<std::pair<uint64_t, std::string>> requeue;
  for (const auto& [slot, why] : broken) {
    // Skipped if it changed while the files were read.
    const JobSlot& j = sweep->jobs[slot];
    if (j.state == v1::JOB_STATE_DONE && j.result->attempt() == attempt[slot]) {
      requeue.emplace_back(slot, absl::StrCat("output lost: ", why));
    }
  }
  const uint64_t broken_count = requeue.size();
  for (uint64_t s = 0; s < sweep->jobs.size(); ++s) {
    const JobSlot& j = sweep->jobs[s];
    if (j.state == v1::JOB_STATE_FAILED || j.state == v1::JOB_STATE_CANCELLED) {
      requeue.emplace_back(s, j.last_error);
    }
  }
  SubmitResult result;
  result.sweep_id = sweep_id;
  result.jobs = sweep->jobs.size();
  result.requeued = RequeueFinishedLocked(*sweep, requeue);
  result.already_done = sweep->status.counts().done();
  if (broken_count > 0) {
    LogWarning("sweep ", sweep_id, ": ", broken_count,
               " finished job(s) lost their files and render again");
  }
  lock.unlock();
  if (absl::Status st = store_->Sync(); !st.ok()) return st;
  return result;
}

uint64_t LeaseQueue::RequeueFinishedLocked(
    SweepEntry& sweep,
    const std::vector<std::pair<uint64_t, std::string>>& slots_and_reasons) {
  if (slots_and_reasons.empty()) return 0;
  std::vector<JobRecord> dirty;
  for (const auto& [slot, why] : slots_and_reasons) {
    JobSlot& j = sweep.jobs[slot];
    if (j.state == v1::JOB_STATE_DONE) UnindexDoneLocked(sweep, slot);
    j.result.reset();
    j.attempts = 0;
    j.lost_leases = 0;
    j.lease_epoch = 0;
    j.failed_on.clear();
    j.last_error = why;
    SetState(sweep.status.mutable_counts(), &j.state, v1::JOB_STATE_PENDING);
    sweep.pending.push_back(slot);
    dirty.push_back(sweep.Record(slot));
  }
  sweep.status.set_state(v1::SWEEP_STATE_RUNNING);
  sweep.status.clear_finished();
  sweep.status.set_changes(sweep.status.changes() + dirty.size());
  // The re-queued jobs and the sweep's state in one transaction.
  StateBatch batch;
  batch.PutJobs(dirty);
  batch.PutSweep(sweep.status);
  if (absl::Status st = store_->Write(batch); !st.ok()) {
    // The jobs run now; a restart before they finish finds them as they were.
    LogWarning("sweep ", sweep.status.id(),
               ": saving the re-queue: ", st.ToString());
  }
  NoteWorkLocked();
  change_cv_.notify_all();
  return dirty.size();
}

}  // namespace reelfarm
