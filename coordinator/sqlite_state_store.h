#ifndef REELFARM_COORDINATOR_SQLITE_STATE_STORE_H_
#define REELFARM_COORDINATOR_SQLITE_STATE_STORE_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/sqlite_db.h"
#include "coordinator/state_store.h"

namespace reelfarm {

// The coordinator's durable state: one SQLite database in WAL mode,
// `<state_dir>/coordinator.db`. A restarted coordinator (kill -9 included)
// loads it and carries on.
//
// Durability. In WAL mode a transaction is in the log file once COMMIT
// returns, so a process crash loses nothing at any synchronous level; the
// level decides what survives the machine losing power. Changes a client is
// told about and will not repeat (submits, results, failures, cancels,
// re-queues) commit with synchronous=FULL: the log is fsynced before the
// call returns, so an acknowledged result cannot be lost. Lease grants and
// renewals commit with synchronous=NORMAL (no fsync, about 15x faster): after
// a power loss a lost grant leaves its job pending, and the holder's result
// is refused because lease epochs are reserved durably in blocks and never
// handed out twice, so the worst case is a repeated render, never a wrong
// manifest.
class SqliteStateStore : public StateStore {
 public:
  // Creates `state_dir` if needed and opens (or creates) the database. Fails
  // when another coordinator holds it.
  static absl::StatusOr<std::unique_ptr<SqliteStateStore>> Open(
      const std::string& state_dir);
  ~SqliteStateStore() override;

  absl::Status PutSweep(const v1::SweepStatus& sweep) override;
  absl::Status PutJobs(const std::vector<JobRecord>& jobs) override;
  absl::Status PutLease(const LeaseRecord& lease) override;
  absl::Status DeleteLease(uint64_t epoch) override;
  absl::Status Load(RecoveredState* state) override;

  const std::string& path() const { return db_->path(); }

 private:
  struct Statements;
  SqliteStateStore(std::unique_ptr<SqliteDb> db, int lock_fd);

  absl::Status Begin(bool durable);
  absl::Status Commit();
  void Rollback();
  absl::Status ReserveEpochsLocked(uint64_t epoch);
  absl::StatusOr<uint64_t> ReadEpochCeilingLocked();

  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<Statements> stmts_;
  int lock_fd_ = -1;
  bool durable_ = true;         // current synchronous level is FULL
  uint64_t epoch_ceiling_ = 0;  // epochs up to this are reserved
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_SQLITE_STATE_STORE_H_
