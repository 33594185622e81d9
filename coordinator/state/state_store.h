#ifndef REELFARM_COORDINATOR_STATE_STATE_STORE_H_
#define REELFARM_COORDINATOR_STATE_STATE_STORE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm {

// What the queue persists about one job. Parameters are not stored: they
// are recomputed from the sweep's spec and `index`.
struct JobRecord {
  std::string sweep_id;
  uint64_t slot = 0;   // position in the sweep's job table
  uint64_t index = 0;  // expansion index in the spec
  std::string job_id;
  v1::JobState state = v1::JOB_STATE_PENDING;
  uint32_t attempts = 0;
  uint32_t lost_leases = 0;
  uint64_t lease_epoch = 0;  // 0 when not leased
  std::string last_error;
  v1::JobResult result;  // meaningful when state is DONE
};

struct LeaseRecord {
  uint64_t epoch = 0;
  std::string sweep_id;
  std::vector<uint64_t> slots;
  std::string node_id;
  uint32_t lane = 0;
  int64_t expire_unix_ms = 0;
};

// Everything a restarted coordinator needs to carry on.
struct RecoveredState {
  std::vector<v1::SweepStatus> sweeps;
  std::vector<JobRecord> jobs;
  std::vector<LeaseRecord> leases;
  uint64_t max_epoch = 0;
};

// Rows that change together, written all or none (LevelDB's WriteBatch). A
// state transition that touches several rows (a grant: the lease and its
// jobs; a release or an expiry: the lease's deletion and its jobs'
// re-queue; a submit: the sweep and its jobs) puts them in one batch, so a
// crash leaves either the state before it or the state after it. Applied
// in the order the rows were added.
class StateBatch {
 public:
  enum class Kind { kSweep, kJobs, kLease, kDeleteLease };
  struct Op {
    Kind kind;
    v1::SweepStatus sweep;        // kSweep
    std::vector<JobRecord> jobs;  // kJobs
    LeaseRecord lease;            // kLease; lease.epoch for kDeleteLease
  };

  void PutSweep(const v1::SweepStatus& sweep);
  void PutJobs(std::vector<JobRecord> jobs);
  void PutLease(const LeaseRecord& lease);
  void DeleteLease(uint64_t epoch);

  bool empty() const { return ops_.empty(); }
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

// The queue's write-through log. The queue keeps the working set in
// memory and calls the store before it acknowledges a change, so a store that
// is durable makes every acknowledged change survive a crash.
class StateStore {
 public:
  virtual ~StateStore() = default;

  // Applies every row of `batch` in one transaction: all of them or, on an
  // error, none.
  virtual absl::Status Write(const StateBatch& batch) = 0;
  virtual absl::Status Load(RecoveredState* state) = 0;

  // Makes every change written so far durable. The queue calls it
  // outside its lock before it acknowledges a change that a client will not
  // repeat, so acknowledgements that arrive together share one flush (group
  // commit).
  virtual absl::Status Sync() { return absl::OkStatus(); }

  // One-row batches.
  absl::Status PutSweep(const v1::SweepStatus& sweep);
  absl::Status PutJobs(const std::vector<JobRecord>& jobs);
  absl::Status PutLease(const LeaseRecord& lease);
  absl::Status DeleteLease(uint64_t epoch);
};

// Keeps nothing: the queue's own tables are the only state. For a
// coordinator whose sweeps need not outlive it (`reelfarm run`).
class NullStateStore : public StateStore {
 public:
  absl::Status Write(const StateBatch&) override { return absl::OkStatus(); }
  absl::Status Load(RecoveredState* state) override {
    *state = RecoveredState();
    return absl::OkStatus();
  }
};

// Keeps the log in memory: a coordinator restart loses it, but a queue
// rebuilt on the same store recovers, which is how the queue's recovery
// path is tested without a database.
class MemoryStateStore : public StateStore {
 public:
  absl::Status Write(const StateBatch& batch) override;
  absl::Status Load(RecoveredState* state) override;

 private:
  std::mutex mu_;
  std::map<std::string, v1::SweepStatus> sweeps_;
  std::map<std::pair<std::string, uint64_t>, JobRecord> jobs_;
  std::map<uint64_t, LeaseRecord> leases_;
  uint64_t max_epoch_ = 0;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_STATE_STATE_STORE_H_
