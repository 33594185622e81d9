#ifndef REELFARM_COORDINATOR_STATE_SQLITE_STATE_STORE_H_
#define REELFARM_COORDINATOR_STATE_SQLITE_STATE_STORE_H_

#include <unistd.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/state/sqlite_db.h"
#include "coordinator/state/state_store.h"

namespace reelfarm {

// The coordinator's durable state: one SQLite database in WAL mode,
// `<state_dir>/coordinator.db`. A restarted coordinator (kill -9 included)
// loads it and carries on.
//
// Durability. In WAL mode a transaction is in the log file once COMMIT
// returns, so a process crash loses nothing at any synchronous level; the
// level decides what survives the machine losing power. Transactions commit
// with synchronous=NORMAL (no fsync), and Sync() fdatasyncs the log: the
// queue calls it before it acknowledges a submit, result, failure,
// cancel or resume, so an acknowledged change is on disk, and the calls that
// arrive together share one flush (group commit). This is what FULL would
// give, with one fsync per batch instead of one per transaction. Lease
// grants and renewals are not synced: after a power loss a lost grant leaves
// its job pending, and the holder's result is refused because lease epochs
// are reserved durably (FULL) in blocks and never handed out twice, so the
// worst case is a repeated render, never a wrong manifest.
//
// A failed fdatasync is final. Linux may drop the dirty pages it could not
// write and report the next fdatasync as a success, so a retry would
// acknowledge changes that never reached the disk (PostgreSQL's lesson).
// From the first failure on, Sync() and Write() return that failure, and
// `on_sync_failure` runs once: the coordinator exits, and a restart
// recovers from what the disk holds.
struct SqliteStateStoreOptions {
  // The file seam, for tests that make the disk fail.
  std::function<int(int fd)> fdatasync = [](int fd) { return ::fdatasync(fd); };
  std::function<void(const absl::Status&)> on_sync_failure;
};

class SqliteStateStore : public StateStore {
 public:
  // Creates `state_dir` if needed and opens (or creates) the database. Fails
  // when another coordinator holds it.
  static absl::StatusOr<std::unique_ptr<SqliteStateStore>> Open(
      const std::string& state_dir, SqliteStateStoreOptions options = {});
  ~SqliteStateStore() override;

  absl::Status Write(const StateBatch& batch) override;
  absl::Status Load(RecoveredState* state) override;
  absl::Status Sync() override;

  const std::string& path() const { return db_->path(); }

 private:
  struct Statements;
  SqliteStateStore(std::unique_ptr<SqliteDb> db, int lock_fd);

  absl::Status Begin(bool durable);
  absl::Status Commit();
  void Rollback();
  absl::Status ReserveEpochsLocked(uint64_t epoch);
  absl::Status PutSweepLocked(const v1::SweepStatus& sweep);
  absl::Status PutJobsLocked(const std::vector<JobRecord>& jobs);
  absl::Status PutLeaseLocked(const LeaseRecord& lease);
  absl::Status DeleteLeaseLocked(uint64_t epoch);
  absl::StatusOr<uint64_t> ReadEpochCeilingLocked();

  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<Statements> stmts_;
  int lock_fd_ = -1;
  bool durable_ = true;         // current synchronous level is FULL
  uint64_t epoch_ceiling_ = 0;  // epochs up to this are reserved
  uint64_t commits_ = 0;        // transactions committed, guarded by mu_

  // Group commit: the first caller flushes for everyone waiting behind it.
  std::mutex sync_mu_;
  uint64_t synced_ = 0;        // commits known durable, guarded by sync_mu_
  int wal_fd_ = -1;            // the log file, opened at the first Sync
  absl::Status sync_failure_;  // the first failed flush, sticky; mu_
  std::string state_dir_;
  SqliteStateStoreOptions options_;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_STATE_SQLITE_STATE_STORE_H_
