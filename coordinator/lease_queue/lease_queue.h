#ifndef REELFARM_COORDINATOR_LEASE_QUEUE_LEASE_QUEUE_H_
#define REELFARM_COORDINATOR_LEASE_QUEUE_LEASE_QUEUE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "coordinator/manifest/output_verifier.h"
#include "coordinator/state/state_store.h"
#include "reelfarm/v1/coordinator.pb.h"
#include "sweep/sweep_expander.h"

namespace reelfarm {

class CoordinatorMetrics;

struct LeaseQueueOptions {
  absl::Duration lease_ttl = absl::Seconds(30);
  uint32_t default_max_attempts = 3;
  // Leases of a job that may expire (its node died or stopped answering)
  // before it is marked failed. Expiries do not use up attempts: a node
  // killed for reasons of its own says nothing about the job.
  uint32_t max_lost_leases = 10;
  // A sweep with more jobs is refused before any of them is made: one
  // mistaken grid must not take the coordinator down by memory.
  uint64_t max_jobs_per_sweep = 10'000'000;
  // A node whose renders fail this many times in a row (retryable failures:
  // the node's fault more likely than the job's) gets no leases for
  // `quarantine_for`.
  uint32_t quarantine_after_failures = 3;
  absl::Duration quarantine_for = absl::Minutes(5);
  // Checks that a finished job's files are still there before a resubmit or
  // a resume counts it as done. nullptr: trust the records.
  OutputVerifier* verifier = nullptr;
  // Told of completed jobs and expired leases. nullptr: none kept.
  CoordinatorMetrics* metrics = nullptr;
};

struct SubmitResult {
  std::string sweep_id;
  uint64_t jobs = 0;
  // Finished already, in this sweep or (same job id) in an earlier one, with
  // their files intact: not rendered again.
  uint64_t already_done = 0;
  // Of those, jobs finished by an earlier sweep.
  uint64_t reused = 0;
  // Failed, cancelled, or finished with missing or corrupted files: queued
  // again (a resubmitted or resumed sweep).
  uint64_t requeued = 0;
  uint64_t duplicates_merged = 0;  // identical jobs listed twice in the spec
};

struct FailOutcome {
  bool accepted = false;
  bool will_retry = false;
};

// What a watcher has not seen yet.
struct SweepChanges {
  v1::SweepStatus sweep;
  std::vector<v1::JobStatus> finished;  // in the order they finished
  uint64_t cursor = 0;                  // pass back to get the next batch
};

// Sweeps, jobs and leases: the coordinator's state machine, independent of
// gRPC. Every change goes to the StateStore before it is acknowledged.
//
// Jobs: PENDING -> LEASED -> DONE, or back to PENDING when a lease expires or
// a retryable failure leaves attempts, or FAILED when none are left. A lease's
// epoch is unique and grows, so a result is accepted only from the lease that
// currently holds the job (fencing): a node that lost its lease cannot
// overwrite the work of the node that took over.
class LeaseQueue {
 public:
  LeaseQueue(StateStore* store, Clock* clock, LeaseQueueOptions options = {});
  ~LeaseQueue();

  // Rebuilds from the store: sweeps, job states and leases. A lease lives at
  // least one more TTL from now, so holders that are alive reconnect and
  // renew it, and the work of nodes that are gone is re-queued after that.
  absl::Status Recover();

  // --- clients ---
  // A new sweep. Jobs that some earlier sweep finished (same job id) and
  // whose files verify are done at once; the files are linked into this
  // sweep's output folder when it is another one. Submitting a sweep that
  // exists resumes it.
  absl::StatusOr<SubmitResult> Submit(const v1::SweepSpec& spec);
  // Queues the sweep's failed and cancelled jobs again with fresh attempts,
  // and its finished jobs whose files are missing or corrupted.
  absl::StatusOr<SubmitResult> Resume(const std::string& sweep_id);
  absl::StatusOr<v1::SweepStatus> GetSweep(const std::string& sweep_id) const;
  // Every job of the sweep; `sweep`, when given, receives the sweep's status
  // as of the same instant.
  absl::StatusOr<std::vector<v1::JobStatus>> ListJobs(
      const std::string& sweep_id, v1::SweepStatus* sweep = nullptr) const;
  absl::StatusOr<v1::SweepStatus> Cancel(const std::string& sweep_id);
  std::vector<v1::SweepStatus> ListSweeps() const;
  // Blocks until the sweep has changes past `cursor`, it finishes, the
  // queue shuts down, or `timeout` passes (measured on the real clock:
  // this is a wait, not a lease decision).
  absl::StatusOr<SweepChanges> WaitForChanges(const std::string& sweep_id,
                                              uint64_t cursor,
                                              absl::Duration timeout) const;

  // --- nodes ---
  std::string RegisterNode(const v1::Node& node);
  // A lease on the next shard, or nullopt when there is no work now. Callers
  // that wait for work park with LeaseWaiters, which uses WaitForWork.
  // `lane_devices` (0: unknown) is what the lane says it has, which
  // stands in for a registration the queue lost in a restart.
  absl::StatusOr<std::optional<v1::Lease>> Acquire(const std::string& node_id,
                                                   uint32_t lane,
                                                   uint32_t lane_devices = 0);
  // Grows whenever jobs are queued (submitted, retried, resumed).
  uint64_t WorkGeneration() const;
  // Whether some running sweep has pending jobs (not every lane may be able
  // to take them).
  bool HasPendingWork() const;
  // Returns when jobs have been queued since WorkGeneration() returned
  // `seen`, on Shutdown, or after `timeout` (real time), whichever is first.
  // Waiting for a change rather than for pending work keeps lanes that
  // cannot take the pending jobs (too few devices, failed on them before)
  // from polling in a loop.
  void WaitForWork(absl::Duration timeout, uint64_t seen) const;

  // Renews the named leases; returns the ones that are no longer held.
  std::vector<std::string> Heartbeat(const std::string& node_id,
                                     const std::vector<std::string>& lease_ids);
  // The same, keeping the progress each lease reports (ListNodes shows it).
  std::vector<std::string> HeartbeatWithProgress(
      const std::string& node_id,
      const std::vector<v1::LeaseProgress>& progress);
  // False when the lease no longer holds the job (result discarded).
  absl::StatusOr<bool> Complete(const std::string& lease_id, uint64_t epoch,
                                const v1::JobResult& result);
  absl::StatusOr<FailOutcome> Fail(const std::string& lease_id, uint64_t epoch,
                                   const v1::JobResult& result, bool retryable);
  // Hands unfinished jobs of a lease back without counting an attempt.
  absl::Status Release(const std::string& lease_id, uint64_t epoch);

  // Re-queues the jobs of every lease whose expiry has passed; returns how
  // many leases expired. Called by the coordinator's timer and by Acquire.
  int ExpireLeases();

  // Nodes as last heard of, with quarantine times.
  std::vector<v1::Node> ListNodes() const;
  bool IsQuarantined(const std::string& node_id) const;

  // Wakes every waiter and makes them return; no new leases afterwards.
  void Shutdown();
  // After Shutdown: blocks until every lease has ended (its jobs reported,
  // handed back or expired), StopWaitingForLeases is called, or `timeout`
  // passes (real time). True when none is left.
  bool WaitForLeasesToEnd(absl::Duration timeout);
  void StopWaitingForLeases();

  absl::Duration lease_ttl() const { return options_.lease_ttl; }

  static std::string LeaseIdFor(uint64_t epoch);

 private:
  struct JobSlot;
  struct SweepEntry;
  struct LeaseEntry;
  struct NodeEntry;
  struct DoneRef;

  // The calls that change state, before the store's Sync: their public
  // versions sync after releasing the lock, so concurrent callers share a
  // flush.
  absl::StatusOr<v1::SweepStatus> CancelUnsynced(const std::string& sweep_id);
  absl::StatusOr<bool> CompleteUnsynced(const std::string& lease_id,
                                        uint64_t epoch,
                                        const v1::JobResult& result);
  absl::StatusOr<FailOutcome> FailUnsynced(const std::string& lease_id,
                                           uint64_t epoch,
                                           const v1::JobResult& result,
                                           bool retryable);

  SweepEntry* FindSweep(const std::string& id);
  const SweepEntry* FindSweep(const std::string& id) const;
  std::optional<v1::Lease> GrantLocked(const std::string& node_id,
                                       uint32_t lane);
  LeaseEntry* FindLeaseLocked(const std::string& lease_id, uint64_t epoch);
  // Moves a leased job back to PENDING or, when `give_up` or no attempts
  // are left, to FAILED with `why` as its error.
  void RequeueLocked(SweepEntry& sweep, uint64_t slot, const std::string& why,
                     bool give_up, std::vector<JobRecord>* dirty);
  void FinishJobLocked(SweepEntry& sweep, uint64_t slot);
  void RefreshSweepStateLocked(SweepEntry& sweep);
  v1::JobStatus JobStatusLocked(const SweepEntry& sweep, uint64_t slot) const;
  // Forgets the lease and adds its deletion to `batch`.
  void DropLeaseLocked(uint64_t epoch, StateBatch* batch);
  // Forgets the lease in memory only (its deletion is written already).
  void ForgetLeaseLocked(uint64_t epoch);
  // Queues again what recovery finds against the invariants, logging each.
  void RepairLocked();
  // Whether the lease holds none of its jobs any more.
  bool LeaseSpentLocked(const LeaseEntry& lease) const;
  NodeEntry& TouchNodeLocked(const std::string& node_id);
  // Whether a live, unquarantined node the job has not failed on could
  // take it.
  bool OtherNodeCanTakeLocked(const JobSlot& job) const;
  // Whether the node was heard from within a lease TTL and is not
  // quarantined.
  bool IsLiveLocked(const NodeEntry& node, absl::Time now) const;
  // Devices of `lane` of `node` (1 for a node that sent no lane layout).
  static uint32_t LaneWidth(const NodeEntry& node, uint32_t lane);
  // The most devices any lane of a live node has, leaving out the nodes in
  // `excluded` (those a job failed on: retried elsewhere, it may render on
  // fewer devices).
  uint32_t WidestLiveLaneLocked(
      const std::vector<std::string>& excluded = {}) const;
  uint32_t DevicesWantedLocked(SweepEntry& sweep, uint64_t slot);
  // Counts new pending work and wakes the lease waiters.
  void NoteWorkLocked();
  void NoteFailedOnLocked(JobSlot& job, const std::string& node_id);
  void NoteFailureLocked(const std::string& node_id);
  // Re-queues the listed slots of `sweep` (finished or failed) with fresh
  // attempts; returns how many moved.
  uint64_t RequeueFinishedLocked(
      SweepEntry& sweep,
      const std::vector<std::pair<uint64_t, std::string>>& slots_and_reasons);
  // Done results of other sweeps for the ids of `entry`, verified (and
  // adopted into `output_dir`) outside the lock: (slot, result) pairs.
  void FindReusableResults(
      const SweepEntry& entry, const std::string& output_dir,
      std::vector<std::pair<uint64_t, v1::JobResult>>* reused);
  // Resume, reporting the totals of a resubmitted sweep.
  absl::StatusOr<SubmitResult> ResubmitExisting(const SubmitResult& submitted);
  void IndexDoneLocked(const SweepEntry& sweep, uint64_t slot);
  void UnindexDoneLocked(const SweepEntry& sweep, uint64_t slot);

  StateStore* const store_;
  Clock* const clock_;
  const LeaseQueueOptions options_;

  mutable std::mutex mu_;
  mutable std::condition_variable work_cv_;    // pending work appeared
  mutable std::condition_variable change_cv_;  // a job or sweep changed
  bool shutdown_ = false;
  uint64_t work_generation_ = 0;
  bool stop_waiting_for_leases_ = false;
  uint64_t next_epoch_ = 1;
  std::vector<std::unique_ptr<SweepEntry>> sweeps_;  // submission order
  std::map<uint64_t, LeaseEntry> leases_;
  std::map<std::string, NodeEntry> nodes_;
  // Finished jobs by id, across sweeps: what a new sweep can reuse. Keys
  // view the slots' ids, which never move once a sweep is built.
  absl::flat_hash_map<absl::string_view, DoneRef> done_;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_LEASE_QUEUE_LEASE_QUEUE_H_
