#include "coordinator/lease_queue/lease_queue.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/sha256.h"
#include "coordinator/lease_queue/lease_queue_internal.h"
#include "rpc/proto_time.h"

namespace reelfarm {
namespace {

constexpr size_t kMaxChangesPerBatch = 1000;
// How many jobs that failed on a node one grant to it may pass over.
constexpr size_t kMaxDeferredPerGrant = 64;

}  // namespace

using lease_queue_internal::AdjustCount;
using lease_queue_internal::IsFinal;
using lease_queue_internal::kLeasePrefix;
using lease_queue_internal::SetState;

LeaseQueue::LeaseQueue(StateStore* store, Clock* clock,
                       LeaseQueueOptions options)
    : store_(store), clock_(clock), options_(options) {}

LeaseQueue::~LeaseQueue() { Shutdown(); }

std::string LeaseQueue::LeaseIdFor(uint64_t epoch) {
  return absl::StrCat(kLeasePrefix, epoch);
}

absl::StatusOr<SubmitResult> LeaseQueue::Submit(const v1::SweepSpec& spec) {
  absl::StatusOr<SweepExpander> expander = SweepExpander::Create(spec);
  if (!expander.ok()) return expander.status();
  if (expander->size() == 0) {
    return absl::InvalidArgumentError("the sweep has no jobs");
  }
  if (expander->size() > options_.max_jobs_per_sweep) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the sweep has ", expander->size(), " jobs, more than the ",
        options_.max_jobs_per_sweep,
        " a sweep may have (--max-jobs-per-sweep); split it or raise the "
        "limit"));
  }

  // Ids are computed outside the lock: a big sweep takes a while.
  auto entry = std::make_unique<SweepEntry>(*std::move(expander));
  // Views into the slots' ids: `jobs` is reserved up front, so they stay put.
  absl::flat_hash_set<absl::string_view> seen;
  seen.reserve(entry->expander.size());
  Sha256 sweep_hash;
  sweep_hash.Update(absl::StrCat(spec.name(), "\n", spec.output_dir(), "\n",
                                 spec.renderer().name(), "\n"));
  SubmitResult result;
  entry->jobs.reserve(entry->expander.size());
  for (uint64_t i = 0; i < entry->expander.size(); ++i) {
    JobSlot& slot = entry->jobs.emplace_back();
    slot.index = i;
    slot.id = entry->expander.JobIdAt(i);
    if (!seen.insert(slot.id).second) {
      ++result.duplicates_merged;
      entry->jobs.pop_back();
      continue;
    }
    sweep_hash.Update(slot.id);
  }
  const std::string sweep_id =
      absl::StrCat("sw-", sweep_hash.HexDigest().substr(0, 16));
  result.sweep_id = sweep_id;
  result.jobs = entry->jobs.size();

  std::unique_lock<std::mutex> lock(mu_);
  if (FindSweep(sweep_id) != nullptr) {
    lock.unlock();
    return ResubmitExisting(result);
  }
  lock.unlock();
  std::vector<std::pair<uint64_t, v1::JobResult>> reused;
  FindReusableResults(*entry, spec.output_dir(), &reused);
  lock.lock();
  if (FindSweep(sweep_id) != nullptr) {
    // The same sweep was submitted meanwhile; that one stands.
    lock.unlock();
    return ResubmitExisting(result);
  }
  v1::SweepStatus& status = entry->status;
  status.set_id(sweep_id);
  *status.mutable_spec() = spec;
  status.set_state(v1::SWEEP_STATE_RUNNING);
  status.mutable_counts()->set_total(entry->jobs.size());
  status.mutable_counts()->set_pending(entry->jobs.size());
  *status.mutable_submitted() = ToProtoTimestamp(clock_->Now());
  entry->max_attempts = spec.max_attempts() > 0 ? spec.max_attempts()
                                                : options_.default_max_attempts;
  for (auto& [slot, done] : reused) {
    JobSlot& j = entry->jobs[slot];
    j.result = std::make_unique<v1::JobResult>(std::move(done));
    SetState(status.mutable_counts(), &j.state, v1::JOB_STATE_DONE);
    entry->finished_order.push_back(slot);
  }
  result.already_done = result.reused = reused.size();
  std::vector<JobRecord> records;
  records.reserve(entry->jobs.size());
  for (uint64_t s = 0; s < entry->jobs.size(); ++s) {
    if (entry->jobs[s].state == v1::JOB_STATE_PENDING) {
      entry->pending.push_back(s);
    }
    records.push_back(entry->Record(s));
  }
  // The sweep and every job of it in one transaction: a crash in between
  // would recover a sweep with no jobs.
  StateBatch batch;
  batch.PutSweep(status);
  batch.PutJobs(std::move(records));
  if (absl::Status st = store_->Write(batch); !st.ok()) return st;
  SweepEntry& added = *sweeps_.emplace_back(std::move(entry));
  for (const auto& [slot, done] : reused) IndexDoneLocked(added, slot);
  RefreshSweepStateLocked(added);
  NoteWorkLocked();
  change_cv_.notify_all();
  lock.unlock();
  if (absl::Status st = store_->Sync(); !st.ok()) return st;
  return result;
}

LeaseQueue::SweepEntry* LeaseQueue::FindSweep(const std::string& id) {
  for (auto& s : sweeps_) {
    if (s->status.id() == id) return s.get();
  }
  return nullptr;
}

const LeaseQueue::SweepEntry* LeaseQueue::FindSweep(
    const std::string& id) const {
  for (const auto& s : sweeps_) {
    if (s->status.id() == id) return s.get();
  }
  return nullptr;
}

absl::StatusOr<v1::SweepStatus> LeaseQueue::GetSweep(
    const std::string& sweep_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const SweepEntry* sweep = FindSweep(sweep_id);
  if (sweep == nullptr) {
    return absl::NotFoundError(absl::StrCat("no sweep ", sweep_id));
  }
  return sweep->status;
}

v1::JobStatus LeaseQueue::JobStatusLocked(const SweepEntry& sweep,
                                          uint64_t slot) const {
  const JobSlot& j = sweep.jobs[slot];
  v1::JobStatus out;
  *out.mutable_job() = sweep.expander.JobAt(j.index, sweep.status.id(), j.id);
  out.set_state(j.state);
  out.set_attempts(j.attempts);
  out.set_last_error(j.last_error);
  if (j.result) *out.mutable_result() = *j.result;
  return out;
}

absl::StatusOr<std::vector<v1::JobStatus>> LeaseQueue::ListJobs(
    const std::string& sweep_id, v1::SweepStatus* status) const {
  std::lock_guard<std::mutex> lock(mu_);
  const SweepEntry* sweep = FindSweep(sweep_id);
  if (sweep == nullptr) {
    return absl::NotFoundError(absl::StrCat("no sweep ", sweep_id));
  }
  if (status != nullptr) *status = sweep->status;
  std::vector<v1::JobStatus> out;
  out.reserve(sweep->jobs.size());
  for (uint64_t s = 0; s < sweep->jobs.size(); ++s) {
    out.push_back(JobStatusLocked(*sweep, s));
  }
  return out;
}

std::vector<v1::SweepStatus> LeaseQueue::ListSweeps() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::SweepStatus> out;
  for (const auto& s : sweeps_) out.push_back(s->status);
  return out;
}

absl::StatusOr<v1::SweepStatus> LeaseQueue::Cancel(
    const std::string& sweep_id) {
  absl::StatusOr<v1::SweepStatus> cancelled = CancelUnsynced(sweep_id);
  if (!cancelled.ok()) return cancelled;
  if (absl::Status st = store_->Sync(); !st.ok()) return st;
  return cancelled;
}

absl::StatusOr<v1::SweepStatus> LeaseQueue::CancelUnsynced(
    const std::string& sweep_id) {
  std::lock_guard<std::mutex> lock(mu_);
  SweepEntry* sweep = FindSweep(sweep_id);
  if (sweep == nullptr) {
    return absl::NotFoundError(absl::StrCat("no sweep ", sweep_id));
  }
  if (sweep->status.state() != v1::SWEEP_STATE_RUNNING) return sweep->status;
  std::vector<JobRecord> dirty;
  for (uint64_t s = 0; s < sweep->jobs.size(); ++s) {
    JobSlot& j = sweep->jobs[s];
    if (IsFinal(j.state)) continue;
    // A leased job's lease stays until its holder hears it was lost.
    j.lease_epoch = 0;
    SetState(sweep->status.mutable_counts(), &j.state, v1::JOB_STATE_CANCELLED);
    sweep->finished_order.push_back(s);
    sweep->status.set_changes(sweep->status.changes() + 1);
    dirty.push_back(sweep->Record(s));
  }
  sweep->pending.clear();
  sweep->status.set_state(v1::SWEEP_STATE_CANCELLED);
  *sweep->status.mutable_finished() = ToProtoTimestamp(clock_->Now());
  StateBatch batch;
  batch.PutJobs(std::move(dirty));
  batch.PutSweep(sweep->status);
  if (absl::Status st = store_->Write(batch); !st.ok()) return st;
  change_cv_.notify_all();
  return sweep->status;
}

absl::StatusOr<SweepChanges> LeaseQueue::WaitForChanges(
    const std::string& sweep_id, uint64_t cursor,
    absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  const SweepEntry* sweep = FindSweep(sweep_id);
  if (sweep == nullptr) {
    return absl::NotFoundError(absl::StrCat("no sweep ", sweep_id));
  }
  change_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] {
    return shutdown_ || sweep->finished_order.size() > cursor ||
           sweep->status.state() != v1::SWEEP_STATE_RUNNING;
  });
  SweepChanges changes;
  changes.sweep = sweep->status;
  const uint64_t end = std::min<uint64_t>(sweep->finished_order.size(),
                                          cursor + kMaxChangesPerBatch);
  for (uint64_t i = cursor; i < end; ++i) {
    changes.finished.push_back(
        JobStatusLocked(*sweep, sweep->finished_order[i]));
  }
  changes.cursor = std::max(cursor, end);
  return changes;
}

std::string LeaseQueue::RegisterNode(const v1::Node& node) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id = node.id();
  if (id.empty()) id = absl::StrCat(node.host(), "-", nodes_.size() + 1);
  NodeEntry& entry = TouchNodeLocked(id);
  entry.node = node;
  entry.node.set_id(id);
  entry.node.clear_activity();  // heartbeats say what lanes are doing
  return id;
}

absl::StatusOr<std::optional<v1::Lease>> LeaseQueue::Acquire(
    const std::string& node_id, uint32_t lane, uint32_t lane_devices) {
  std::lock_guard<std::mutex> lock(mu_);
  if (lane_devices > 0)
    TouchNodeLocked(node_id).lane_devices[lane] = lane_devices;
  return GrantLocked(node_id, lane);
}

void LeaseQueue::NoteWorkLocked() {
  ++work_generation_;
  work_cv_.notify_all();
}

uint64_t LeaseQueue::WorkGeneration() const {
  std::lock_guard<std::mutex> lock(mu_);
  return work_generation_;
}

bool LeaseQueue::HasPendingWork() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& sweep : sweeps_) {
    if (!sweep->pending.empty() &&
        sweep->status.state() == v1::SWEEP_STATE_RUNNING) {
      return true;
    }
  }
  return false;
}

void LeaseQueue::WaitForWork(absl::Duration timeout, uint64_t seen) const {
  if (timeout <= absl::ZeroDuration()) return;
  std::unique_lock<std::mutex> lock(mu_);
  work_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                    [&] { return shutdown_ || work_generation_ != seen; });
}

uint32_t LeaseQueue::DevicesWantedLocked(SweepEntry& sweep, uint64_t slot) {
  JobSlot& j = sweep.jobs[slot];
  if (j.devices_wanted == 0) {
    v1::RenderParams params;
    int block = 0;
    sweep.expander.ParamsAt(j.index, &params, &block);
    j.devices_wanted = std::max<uint32_t>(1, params.devices_per_video());
  }
  return j.devices_wanted;
}

std::optional<v1::Lease> LeaseQueue::GrantLocked(const std::string& node_id,
                                                 uint32_t lane) {
  if (shutdown_) return std::nullopt;
  const NodeEntry& node = TouchNodeLocked(node_id);
  if (node.quarantined_until > clock_->Now()) return std::nullopt;
  const uint32_t width = LaneWidth(node, lane);
  uint32_t widest = 0;  // WidestLiveLaneLocked() for jobs that failed nowhere
  for (auto& entry : sweeps_) {
    SweepEntry& sweep = *entry;
    if (sweep.pending.empty() ||
        sweep.status.state() != v1::SWEEP_STATE_RUNNING) {
      continue;
    }
    const uint32_t per_shard =
        std::max<uint32_t>(1, sweep.status.spec().sharding().jobs_per_shard());
    LeaseEntry lease;
    lease.epoch = next_epoch_;
    lease.sweep = &sweep;
    lease.node_id = node_id;
    lease.lane = lane;
    lease.expire = clock_->Now() + options_.lease_ttl;
    std::vector<JobRecord> dirty;
    std::vector<uint64_t> deferred;  // failed on this node: leave to others
    while (!sweep.pending.empty() && lease.slots.size() < per_shard) {
      const uint64_t s = sweep.pending.front();
      sweep.pending.pop_front();
      JobSlot& j = sweep.jobs[s];
      if (j.state != v1::JOB_STATE_PENDING) continue;  // cancelled meanwhile
      if (const uint32_t wanted = DevicesWantedLocked(sweep, s);
          wanted > width) {
        if (widest == 0) widest = WidestLiveLaneLocked();
        // A live lane with more of the devices the job asks for renders it
        // sooner; with none (that the job has not failed on), this lane
        // renders it on the devices it has.
        const uint32_t best =
            j.failed_on.empty() ? widest : WidestLiveLaneLocked(j.failed_on);
        if (std::min(wanted, best) > width) {
          if (deferred.size() < kMaxDeferredPerGrant) {
            deferred.push_back(s);
            continue;
          }
          sweep.pending.push_front(s);
          break;
        }
      }
      if (!j.failed_on.empty() && deferred.size() < kMaxDeferredPerGrant &&
          std::count(j.failed_on.begin(), j.failed_on.end(), node_id) > 0 &&
          OtherNodeCanTakeLocked(j)) {
        deferred.push_back(s);
        continue;
      }
      ++j.attempts;
      j.lease_epoch = lease.epoch;
      SetState(sweep.status.mutable_counts(), &j.state, v1::JOB_STATE_LEASED);
      lease.slots.push_back(s);
      dirty.push_back(sweep.Record(s));
    }
    for (auto it = deferred.rbegin(); it != deferred.rend(); ++it) {
      sweep.pending.push_front(*it);
    }
    if (lease.slots.empty()) continue;
    // The lease and its jobs' new state in one transaction.
    StateBatch batch;
    batch.PutLease(lease.Record());
    batch.PutJobs(std::move(dirty));
    if (absl::Status st = store_->Write(batch); !st.ok()) {
      // Not granted: put the jobs back as they were.
      for (auto it = lease.slots.rbegin(); it != lease.slots.rend(); ++it) {
        JobSlot& j = sweep.jobs[*it];
        --j.attempts;
        j.lease_epoch = 0;
        SetState(sweep.status.mutable_counts(), &j.state,
                 v1::JOB_STATE_PENDING);
        sweep.pending.push_front(*it);
      }
      return std::nullopt;
    }
    ++next_epoch_;
    v1::Lease out;
    out.set_id(LeaseIdFor(lease.epoch));
    out.set_epoch(lease.epoch);
    out.set_node_id(node_id);
    *out.mutable_expire_time() = ToProtoTimestamp(lease.expire);
    v1::Shard* shard = out.mutable_shard();
    shard->set_id(absl::StrCat(sweep.status.id(), ":", lease.slots.front()));
    for (uint64_t s : lease.slots) {
      *shard->add_jobs() = sweep.expander.JobAt(
          sweep.jobs[s].index, sweep.status.id(), sweep.jobs[s].id);
    }
    leases_.emplace(lease.epoch, std::move(lease));
    change_cv_.notify_all();
    return out;
  }
  return std::nullopt;
}

void LeaseQueue::RequeueLocked(SweepEntry& sweep, uint64_t slot,
                               const std::string& why, bool give_up,
                               std::vector<JobRecord>* dirty) {
  JobSlot& j = sweep.jobs[slot];
  j.lease_epoch = 0;
  j.last_error = why;
  if (give_up || j.attempts >= sweep.max_attempts) {
    SetState(sweep.status.mutable_counts(), &j.state, v1::JOB_STATE_FAILED);
    FinishJobLocked(sweep, slot);
  } else {
    SetState(sweep.status.mutable_counts(), &j.state, v1::JOB_STATE_PENDING);
    sweep.pending.push_back(slot);
    NoteWorkLocked();
  }
  dirty->push_back(sweep.Record(slot));
}

void LeaseQueue::FinishJobLocked(SweepEntry& sweep, uint64_t slot) {
  sweep.finished_order.push_back(slot);
  sweep.status.set_changes(sweep.status.changes() + 1);
  RefreshSweepStateLocked(sweep);
  change_cv_.notify_all();
}

void LeaseQueue::RefreshSweepStateLocked(SweepEntry& sweep) {
  const v1::SweepCounts& c = sweep.status.counts();
  if (sweep.status.state() != v1::SWEEP_STATE_RUNNING || c.pending() > 0 ||
      c.leased() > 0) {
    return;
  }
  sweep.status.set_state(c.failed() > 0 ? v1::SWEEP_STATE_FAILED
                                        : v1::SWEEP_STATE_DONE);
  *sweep.status.mutable_finished() = ToProtoTimestamp(clock_->Now());
  store_->PutSweep(sweep.status).IgnoreError();  // derivable from job states
}

void LeaseQueue::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  NoteWorkLocked();
  change_cv_.notify_all();
}

}  // namespace reelfarm
