#include "coordinator/state/sqlite_state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace reelfarm {
namespace {

constexpr int kSchemaVersion = 1;
// Epochs are reserved this many at a time, so a grant rarely needs an fsync.
constexpr uint64_t kEpochBlock = 4096;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sweeps(
  id TEXT PRIMARY KEY,
  status BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS jobs(
  sweep_id TEXT NOT NULL,
  slot INTEGER NOT NULL,
  expansion_index INTEGER NOT NULL,
  job_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  lost_leases INTEGER NOT NULL,
  lease_epoch INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  result BLOB,
  PRIMARY KEY(sweep_id, slot)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases(
  epoch INTEGER PRIMARY KEY,
  sweep_id TEXT NOT NULL,
  slots BLOB NOT NULL,
  node_id TEXT NOT NULL,
  lane INTEGER NOT NULL,
  expire_ms INTEGER NOT NULL);
)sql";

// Slots as little-endian 64-bit integers.
std::string PackSlots(const std::vector<uint64_t>& slots) {
  std::string out(slots.size() * 8, '\0');
  for (size_t i = 0; i < slots.size(); ++i) {
    for (int b = 0; b < 8; ++b) {
      out[i * 8 + b] = static_cast<char>((slots[i] >> (8 * b)) & 0xff);
    }
  }
  return out;
}

std::vector<uint64_t> UnpackSlots(const std::string& blob) {
  std::vector<uint64_t> out(blob.size() / 8);
  for (size_t i = 0; i < out.size(); ++i) {
    uint64_t v = 0;
    for (int b = 0; b < 8; ++b) {
      v |= static_cast<uint64_t>(static_cast<unsigned char>(blob[i * 8 + b]))
           << (8 * b);
    }
    out[i] = v;
  }
  return out;
}

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return ErrnoToStatus(errno, absl::StrCat(what, " ", path));
}

}  // namespace

struct SqliteStateStore::Statements {
  std::unique_ptr<SqliteStatement> begin, commit, rollback, sync_full,
      sync_normal, put_sweep, put_job, put_lease, delete_lease, put_meta;
};

SqliteStateStore::SqliteStateStore(std::unique_ptr<SqliteDb> db, int lock_fd)
    : db_(std::move(db)), lock_fd_(lock_fd) {}

SqliteStateStore::~SqliteStateStore() {
  stmts_.reset();
  db_.reset();
  if (wal_fd_ >= 0) ::close(wal_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

absl::StatusOr<std::unique_ptr<SqliteStateStore>> SqliteStateStore::Open(
    const std::string& state_dir, SqliteStateStoreOptions options) {
  if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoError("create state folder", state_dir);
  }
  // One coordinator per state folder: SQLite would keep two consistent,
  // but both would hand out the same jobs. The lock dies with the process.
  const std::string lock_path = absl::StrCat(state_dir, "/coordinator.lock");
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("open", lock_path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "state folder ", state_dir, " is in use by another coordinator (",
        lock_path, " is locked)"));
  }
  absl::StatusOr<std::unique_ptr<SqliteDb>> db =
      SqliteDb::Open(absl::StrCat(state_dir, "/coordinator.db"));
  if (!db.ok()) {
    ::close(fd);
    return db.status();
  }
  std::unique_ptr<SqliteStateStore> store(
      new SqliteStateStore(*std::move(db), fd));
  store->state_dir_ = state_dir;
  store->options_ = std::move(options);
  SqliteDb& d = *store->db_;
  if (absl::Status st = d.Exec("PRAGMA journal_mode=WAL"); !st.ok()) return st;
  if (absl::Status st = d.Exec("PRAGMA synchronous=FULL"); !st.ok()) return st;
  auto version = d.Prepare("PRAGMA user_version");
  if (!version.ok()) return version.status();
  absl::StatusOr<bool> row = (*version)->Step();
  if (!row.ok()) return row.status();
  const int64_t found = *row ? (*version)->ColumnInt(0) : 0;
  version->reset();
  if (found > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(d.path(), " was written by a newer reelfarm (schema ",
                     found, "; this one reads ", kSchemaVersion, ")"));
  }
  if (absl::Status st = d.Exec(kSchema); !st.ok()) return st;
  if (absl::Status st =
          d.Exec(absl::StrCat("PRAGMA user_version=", kSchemaVersion));
      !st.ok()) {
    return st;
  }

  auto stmts = std::make_unique<Statements>();
  struct {
    std::unique_ptr<SqliteStatement>* slot;
    const char* sql;
  } const prepared[] = {
      {&stmts->begin, "BEGIN IMMEDIATE"},
      {&stmts->commit, "COMMIT"},
      {&stmts->rollback, "ROLLBACK"},
      {&stmts->sync_full, "PRAGMA synchronous=FULL"},
      {&stmts->sync_normal, "PRAGMA synchronous=NORMAL"},
      {&stmts->put_sweep,
       "INSERT OR REPLACE INTO sweeps(id, status) VALUES(?1, ?2)"},
      {&stmts->put_job,
       "INSERT OR REPLACE INTO jobs(sweep_id, slot, expansion_index, job_id, "
       "state, attempts, lease_epoch, last_error, result, lost_leases) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
      {&stmts->put_lease,
       "INSERT OR REPLACE INTO leases(epoch, sweep_id, slots, node_id, lane, "
       "expire_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
      {&stmts->delete_lease, "DELETE FROM leases WHERE epoch = ?1"},
      {&stmts->put_meta,
       "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)"},
  };
  for (const auto& p : prepared) {
    auto stmt = d.Prepare(p.sql);
    if (!stmt.ok()) return stmt.status();
    *p.slot = *std::move(stmt);
  }
  store->stmts_ = std::move(stmts);
  absl::StatusOr<uint64_t> ceiling = store->ReadEpochCeilingLocked();
  if (!ceiling.ok()) return ceiling.status();
  store->epoch_ceiling_ = *ceiling;
  return store;
}

absl::Status SqliteStateStore::Begin(bool durable) {
  if (durable != durable_) {
    // The level is read at COMMIT, so switching between transactions is
    // enough; it costs no I/O.
    SqliteStatement& pragma =
        durable ? *stmts_->sync_full : *stmts_->sync_normal;
    if (absl::Status st = pragma.Run(); !st.ok()) return st;
    durable_ = durable;
  }
  return stmts_->begin->Run();
}

absl::Status SqliteStateStore::Commit() {
  absl::Status st = stmts_->commit->Run();
  if (!st.ok()) {
    Rollback();
    return st;
  }
  ++commits_;
  return absl::OkStatus();
}

absl::Status SqliteStateStore::Sync() {
  uint64_t target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!sync_failure_.ok()) return sync_failure_;
    target = commits_;
  }
  std::lock_guard<std::mutex> sync_lock(sync_mu_);
  if (synced_ >= target) return absl::OkStatus();  // flushed by another call
  uint64_t upto;
  {
    std::lock_guard<std::mutex> lock(mu_);
    upto = commits_;
  }
  if (wal_fd_ < 0) {
    // SQLite keeps the log file for as long as it has the database open; a
    // descriptor of our own reaches the same file. SQLite locks the database
    // and -shm files, never the log, so closing ours releases none of its
    // locks.
    const std::string wal = db_->path() + "-wal";
    wal_fd_ = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) return ErrnoError("open", wal);
    // The log's name must be durable too, the first time.
    const int dir = ::open(state_dir_.c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
  if (options_.fdatasync(wal_fd_) != 0) {
    const absl::Status failed = ErrnoError("fdatasync", db_->path() + "-wal");
    {
      std::lock_guard<std::mutex> lock(mu_);
      sync_failure_ = failed;
    }
    if (options_.on_sync_failure) options_.on_sync_failure(failed);
    return failed;
  }
  synced_ = upto;
  return absl::OkStatus();
}

void SqliteStateStore::Rollback() { stmts_->rollback->Run().IgnoreError(); }

absl::Status SqliteStateStore::PutSweepLocked(const v1::SweepStatus& sweep) {
  SqliteStatement& put = *stmts_->put_sweep;
  put.BindText(1, sweep.id());
  put.BindBlob(2, sweep.SerializeAsString());
  return put.Run();
}

absl::Status SqliteStateStore::PutJobsLocked(
    const std::vector<JobRecord>& jobs) {
  SqliteStatement& put = *stmts_->put_job;
  for (const JobRecord& job : jobs) {
    put.BindText(1, job.sweep_id);
    put.BindInt(2, static_cast<int64_t>(job.slot));
    put.BindInt(3, static_cast<int64_t>(job.index));
    put.BindText(4, job.job_id);
    put.BindInt(5, job.state);
    put.BindInt(6, job.attempts);
    put.BindInt(7, static_cast<int64_t>(job.lease_epoch));
    put.BindText(8, job.last_error);
    if (job.state == v1::JOB_STATE_DONE) {
      put.BindBlob(9, job.result.SerializeAsString());
    } else {
      put.BindNull(9);
    }
    put.BindInt(10, job.lost_leases);
    if (absl::Status st = put.Run(); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status SqliteStateStore::ReserveEpochsLocked(uint64_t epoch) {
  if (epoch <= epoch_ceiling_) return absl::OkStatus();
  const uint64_t ceiling = epoch + kEpochBlock;
  SqliteStatement& put = *stmts_->put_meta;
  put.BindText(1, "epoch_ceiling");
  put.BindInt(2, static_cast<int64_t>(ceiling));
  if (absl::Status st = put.Run(); !st.ok()) return st;
  epoch_ceiling_ = ceiling;
  return absl::OkStatus();
}

absl::Status SqliteStateStore::PutLeaseLocked(const LeaseRecord& lease) {
  if (absl::Status st = ReserveEpochsLocked(lease.epoch); !st.ok()) return st;
  SqliteStatement& put = *stmts_->put_lease;
  put.BindInt(1, static_cast<int64_t>(lease.epoch));
  put.BindText(2, lease.sweep_id);
  put.BindBlob(3, PackSlots(lease.slots));
  put.BindText(4, lease.node_id);
  put.BindInt(5, lease.lane);
  put.BindInt(6, lease.expire_unix_ms);
  return put.Run();
}

absl::Status SqliteStateStore::DeleteLeaseLocked(uint64_t epoch) {
  SqliteStatement& del = *stmts_->delete_lease;
  del.BindInt(1, static_cast<int64_t>(epoch));
  return del.Run();
}

absl::Status SqliteStateStore::Write(const StateBatch& batch) {
  if (batch.empty()) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  if (!sync_failure_.ok()) return sync_failure_;
  // A new block of epochs must reach the disk before any epoch of it is
  // handed out: such a batch commits with FULL. A renewal or a grant inside
  // the block need not.
  const uint64_t ceiling_before = epoch_ceiling_;
  bool reserve = false;
  for (const StateBatch::Op& op : batch.ops()) {
    reserve |=
        op.kind == StateBatch::Kind::kLease && op.lease.epoch > epoch_ceiling_;
  }
  if (absl::Status st = Begin(/*durable=*/reserve); !st.ok()) return st;
  absl::Status st;
  for (const StateBatch::Op& op : batch.ops()) {
    switch (op.kind) {
      case StateBatch::Kind::kSweep:
        st = PutSweepLocked(op.sweep);
        break;
      case StateBatch::Kind::kJobs:
        st = PutJobsLocked(op.jobs);
        break;
      case StateBatch::Kind::kLease:
        st = PutLeaseLocked(op.lease);
        break;
      case StateBatch::Kind::kDeleteLease:
        st = DeleteLeaseLocked(op.lease.epoch);
        break;
    }
    if (!st.ok()) break;
  }
  if (st.ok())
    st = Commit();  // rolls back itself when it fails
  else
    Rollback();
  if (!st.ok() && epoch_ceiling_ != ceiling_before) {
    epoch_ceiling_ = 0;  // re-read on the next attempt
  }
  return st;
}

absl::Status SqliteStateStore::Load(RecoveredState* state) {
  std::lock_guard<std::mutex> lock(mu_);
  *state = RecoveredState();
  auto sweeps = db_->Prepare("SELECT id, status FROM sweeps ORDER BY rowid");
  if (!sweeps.ok()) return sweeps.status();
  for (;;) {
    absl::StatusOr<bool> row = (*sweeps)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    v1::SweepStatus& sweep = state->sweeps.emplace_back();
    if (!sweep.ParseFromString((*sweeps)->ColumnBlob(1))) {
      return absl::DataLossError(absl::StrCat(
          db_->path(), ": sweep ", (*sweeps)->ColumnText(0), " is unreadable"));
    }
  }
  auto jobs = db_->Prepare(
      "SELECT sweep_id, slot, expansion_index, job_id, state, attempts, "
      "lease_epoch, last_error, result, lost_leases FROM jobs");
  if (!jobs.ok()) return jobs.status();
  SqliteStatement& j = **jobs;
  for (;;) {
    absl::StatusOr<bool> row = j.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    JobRecord& r = state->jobs.emplace_back();
    r.sweep_id = j.ColumnText(0);
    r.slot = static_cast<uint64_t>(j.ColumnInt(1));
    r.index = static_cast<uint64_t>(j.ColumnInt(2));
    r.job_id = j.ColumnText(3);
    r.state = static_cast<v1::JobState>(j.ColumnInt(4));
    r.attempts = static_cast<uint32_t>(j.ColumnInt(5));
    r.lease_epoch = static_cast<uint64_t>(j.ColumnInt(6));
    r.last_error = j.ColumnText(7);
    r.lost_leases = static_cast<uint32_t>(j.ColumnInt(9));
    if (!j.ColumnIsNull(8) && !r.result.ParseFromString(j.ColumnBlob(8))) {
      return absl::DataLossError(absl::StrCat(
          db_->path(), ": the result of job ", r.job_id, " is unreadable"));
    }
    state->max_epoch = std::max(state->max_epoch, r.lease_epoch);
  }
  auto leases = db_->Prepare(
      "SELECT epoch, sweep_id, slots, node_id, lane, expire_ms FROM leases");
  if (!leases.ok()) return leases.status();
  SqliteStatement& l = **leases;
  for (;;) {
    absl::StatusOr<bool> row = l.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    LeaseRecord& r = state->leases.emplace_back();
    r.epoch = static_cast<uint64_t>(l.ColumnInt(0));
    r.sweep_id = l.ColumnText(1);
    r.slots = UnpackSlots(l.ColumnBlob(2));
    r.node_id = l.ColumnText(3);
    r.lane = static_cast<uint32_t>(l.ColumnInt(4));
    r.expire_unix_ms = l.ColumnInt(5);
    state->max_epoch = std::max(state->max_epoch, r.epoch);
  }
  absl::StatusOr<uint64_t> ceiling = ReadEpochCeilingLocked();
  if (!ceiling.ok()) return ceiling.status();
  // Epochs up to the ceiling may have been handed out in grants that did not
  // reach the disk: start past it.
  epoch_ceiling_ = *ceiling;
  state->max_epoch = std::max(state->max_epoch, epoch_ceiling_);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> SqliteStateStore::ReadEpochCeilingLocked() {
  auto meta =
      db_->Prepare("SELECT value FROM meta WHERE key = 'epoch_ceiling'");
  if (!meta.ok()) return meta.status();
  absl::StatusOr<bool> row = (*meta)->Step();
  if (!row.ok()) return row.status();
  return *row ? static_cast<uint64_t>((*meta)->ColumnInt(0)) : 0;
}

}  // namespace reelfarm
