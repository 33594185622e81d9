#ifndef REELFARM_COORDINATOR_LEASE_QUEUE_LEASE_QUEUE_INTERNAL_H_
#define REELFARM_COORDINATOR_LEASE_QUEUE_LEASE_QUEUE_INTERNAL_H_

// The queue's in-memory tables, shared by its source files only.

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/lease_queue/lease_queue.h"

namespace reelfarm {

struct LeaseQueue::JobSlot {
  uint64_t index = 0;  // expansion index in the spec
  std::string id;
  v1::JobState state = v1::JOB_STATE_PENDING;
  uint32_t attempts = 0;
  uint32_t lost_leases = 0;  // leases that expired while it was held
  uint64_t lease_epoch = 0;
  std::string last_error;
  std::unique_ptr<v1::JobResult> result;
  // Nodes this job failed on (lease expiry included): retried elsewhere
  // while another node can take it.
  std::vector<std::string> failed_on;
  // Devices the job asks to be rendered on (devices_per_video), read from
  // its parameters at its first grant; 0 until then.
  uint32_t devices_wanted = 0;
};

struct LeaseQueue::SweepEntry {
  explicit SweepEntry(SweepExpander ex) : expander(std::move(ex)) {}
  v1::SweepStatus status;  // spec, state, counts, times
  SweepExpander expander;
  std::vector<JobSlot> jobs;
  std::deque<uint64_t> pending;
  std::vector<uint64_t> finished_order;  // what watchers page through
  uint32_t max_attempts = 3;

  JobRecord Record(uint64_t slot) const {
    const JobSlot& j = jobs[slot];
    JobRecord r;
    r.sweep_id = status.id();
    r.slot = slot;
    r.index = j.index;
    r.job_id = j.id;
    r.state = j.state;
    r.attempts = j.attempts;
    r.lost_leases = j.lost_leases;
    r.lease_epoch = j.lease_epoch;
    r.last_error = j.last_error;
    if (j.result) r.result = *j.result;
    return r;
  }
};

struct LeaseQueue::LeaseEntry {
  uint64_t epoch = 0;
  SweepEntry* sweep = nullptr;
  std::vector<uint64_t> slots;
  std::string node_id;
  uint32_t lane = 0;
  absl::Time expire;

  LeaseRecord Record() const {
    LeaseRecord r;
    r.epoch = epoch;
    r.sweep_id = sweep->status.id();
    r.slots = slots;
    r.node_id = node_id;
    r.lane = lane;
    r.expire_unix_ms = absl::ToUnixMillis(expire);
    return r;
  }
};

struct LeaseQueue::NodeEntry {
  v1::Node node;
  absl::Time last_seen;
  uint32_t failures_in_a_row = 0;
  absl::Time quarantined_until = absl::InfinitePast();
  // By lane: what each lane holding a job said at the last heartbeat.
  std::map<uint32_t, v1::LaneActivity> activity;
  // By lane: devices the lane said it has when it asked for work.
  std::map<uint32_t, uint32_t> lane_devices;
};

struct LeaseQueue::DoneRef {
  const SweepEntry* sweep = nullptr;
  uint64_t slot = 0;
};

namespace lease_queue_internal {

constexpr char kLeasePrefix[] = "lease-";

inline void AdjustCount(v1::SweepCounts* c, v1::JobState state, int delta) {
  switch (state) {
    case v1::JOB_STATE_PENDING:
      c->set_pending(c->pending() + delta);
      break;
    case v1::JOB_STATE_LEASED:
      c->set_leased(c->leased() + delta);
      break;
    case v1::JOB_STATE_DONE:
      c->set_done(c->done() + delta);
      break;
    case v1::JOB_STATE_FAILED:
      c->set_failed(c->failed() + delta);
      break;
    case v1::JOB_STATE_CANCELLED:
      c->set_cancelled(c->cancelled() + delta);
      break;
    default:
      break;
  }
}

inline void SetState(v1::SweepCounts* c, v1::JobState* state,
                     v1::JobState next) {
  AdjustCount(c, *state, -1);
  AdjustCount(c, next, +1);
  *state = next;
}

inline bool IsFinal(v1::JobState s) {
  return s == v1::JOB_STATE_DONE || s == v1::JOB_STATE_FAILED ||
         s == v1::JOB_STATE_CANCELLED;
}

}  // namespace lease_queue_internal
}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_LEASE_QUEUE_LEASE_QUEUE_INTERNAL_H_
