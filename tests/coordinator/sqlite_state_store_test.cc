#include "coordinator/state/sqlite_state_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/clock.h"
#include "coordinator/lease_queue/lease_queue.h"
#include "tests/coordinator/test_specs.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;
using testing_specs::GridSpec;

class SqliteStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("sqlite-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SqliteStateStore> MustOpen() {
    auto store = SqliteStateStore::Open(dir_.string());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  fs::path dir_;
};

JobRecord Job(const std::string& sweep, uint64_t slot, v1::JobState state) {
  JobRecord r;
  r.sweep_id = sweep;
  r.slot = slot;
  r.index = slot * 2;
  r.job_id = "job" + std::to_string(slot);
  r.state = state;
  r.attempts = 1;
  r.last_error = "boom";
  if (state == v1::JOB_STATE_DONE) {
    r.result.set_job_id(r.job_id);
    v1::OutputFile* f = r.result.add_files();
    f->set_path("a/b.png");
    f->set_sha256("00ff");
  }
  return r;
}

TEST_F(SqliteStateStoreTest, ReopenedStoreLoadsWhatWasWritten) {
  {
    auto store = MustOpen();
    v1::SweepStatus sweep;
    sweep.set_id("sw-1");
    sweep.mutable_spec()->set_name("grid");
    ASSERT_TRUE(store->PutSweep(sweep).ok());
    ASSERT_TRUE(store
                    ->PutJobs({Job("sw-1", 0, v1::JOB_STATE_DONE),
                               Job("sw-1", 1, v1::JOB_STATE_LEASED),
                               Job("sw-1", 2, v1::JOB_STATE_PENDING)})
                    .ok());
    LeaseRecord lease;
    lease.epoch = 7;
    lease.sweep_id = "sw-1";
    lease.slots = {1, 1ull << 40};
    lease.node_id = "n1";
    lease.lane = 3;
    lease.expire_unix_ms = 123456789;
    ASSERT_TRUE(store->PutLease(lease).ok());
    lease.epoch = 8;
    ASSERT_TRUE(store->PutLease(lease).ok());
    ASSERT_TRUE(store->DeleteLease(8).ok());
  }
  auto store = MustOpen();
  RecoveredState state;
  ASSERT_TRUE(store->Load(&state).ok());
  ASSERT_EQ(state.sweeps.size(), 1u);
  EXPECT_EQ(state.sweeps[0].spec().name(), "grid");
  ASSERT_EQ(state.jobs.size(), 3u);
  EXPECT_EQ(state.jobs[0].state, v1::JOB_STATE_DONE);
  EXPECT_EQ(state.jobs[0].result.files(0).sha256(), "00ff");
  EXPECT_EQ(state.jobs[2].index, 4u);
  EXPECT_EQ(state.jobs[1].last_error, "boom");
  ASSERT_EQ(state.leases.size(), 1u);
  EXPECT_EQ(state.leases[0].slots, (std::vector<uint64_t>{1, 1ull << 40}));
  EXPECT_EQ(state.leases[0].lane, 3u);
  EXPECT_EQ(state.leases[0].expire_unix_ms, 123456789);
  // Epochs are reserved in blocks: a restart never reuses one, even one
  // whose grant did not reach the disk.
  EXPECT_GT(state.max_epoch, 8u);
}

TEST_F(SqliteStateStoreTest, SecondCoordinatorOnTheSameFolderIsRefused) {
  auto first = MustOpen();
  auto second = SqliteStateStore::Open(dir_.string());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos);
}

TEST_F(SqliteStateStoreTest, UnusableFolderIsAClearError) {
  // A file where the folder should be (root may write anywhere, so
  // permissions would not do).
  { std::ofstream(dir_.string()) << "not a folder"; }
  auto store = SqliteStateStore::Open(dir_.string());
  fs::remove(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(dir_.string()), std::string::npos);
}

TEST_F(SqliteStateStoreTest, NewerSchemaIsRefused) {
  { MustOpen(); }
  {
    auto db = SqliteDb::Open((dir_ / "coordinator.db").string());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version=99").ok());
  }
  auto store = SqliteStateStore::Open(dir_.string());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("newer"), std::string::npos);
}

TEST_F(SqliteStateStoreTest, CorruptedDatabaseIsAClearError) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "coordinator.db", std::ios::binary)
      << std::string(8192, '\x5a');
  auto store = SqliteStateStore::Open(dir_.string());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss)
      << store.status();
  EXPECT_NE(store.status().message().find("coordinator.db"), std::string::npos)
      << store.status();
}

// A result is acknowledged once PutJobs and Sync return. A process killed
// with SIGKILL at any moment after that must not lose it.
TEST_F(SqliteStateStoreTest, AcknowledgedResultsSurviveSigkill) {
  int acks[2];
  ASSERT_EQ(::pipe(acks), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(acks[0]);
    auto store = SqliteStateStore::Open(dir_.string());
    if (!store.ok()) ::_exit(3);
    for (uint64_t slot = 0;; ++slot) {
      LeaseRecord lease;
      lease.epoch = slot + 1;
      lease.sweep_id = "sw";
      lease.slots = {slot};
      (*store)->PutLease(lease).IgnoreError();
      if (!(*store)->PutJobs({Job("sw", slot, v1::JOB_STATE_DONE)}).ok() ||
          !(*store)->Sync().ok()) {
        ::_exit(4);
      }
      const char ack = 1;
      if (::write(acks[1], &ack, 1) != 1) ::_exit(5);
    }
  }
  ::close(acks[1]);
  // Killed while it is still writing, after some acknowledgements.
  uint64_t acknowledged = 0;
  char buf[64];
  while (acknowledged < 200) {
    const ssize_t n = ::read(acks[0], buf, sizeof(buf));
    ASSERT_GT(n, 0) << "the writer died early";
    acknowledged += n;
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  while (::read(acks[0], buf, sizeof(buf)) > 0) ++acknowledged;
  ::close(acks[0]);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto store = MustOpen();  // the dead writer's lock is gone with it
  RecoveredState state;
  ASSERT_TRUE(store->Load(&state).ok());
  std::set<uint64_t> done;
  for (const JobRecord& r : state.jobs) {
    if (r.state == v1::JOB_STATE_DONE) done.insert(r.slot);
  }
  for (uint64_t slot = 0; slot < acknowledged; ++slot) {
    ASSERT_TRUE(done.count(slot)) << "acknowledged result " << slot << " lost";
  }
}

// The queue on a real store: what `reelfarm coordinator --state-dir`
// runs. A new queue on the reopened file carries on where the old one
// stopped, and fencing holds across the restart.
TEST_F(SqliteStateStoreTest, LeaseQueueCarriesOnAfterRestart) {
  FakeClock clock;
  std::string sweep_id;
  v1::Lease held;
  {
    auto store = MustOpen();
    LeaseQueue queue(store.get(), &clock);
    ASSERT_TRUE(queue.Recover().ok());
    auto sub = queue.Submit(GridSpec(2, 3, "/tmp/out"));
    ASSERT_TRUE(sub.ok());
    sweep_id = sub->sweep_id;
    for (int i = 0; i < 2; ++i) {
      auto lease = queue.Acquire("n1", 0);
      ASSERT_TRUE(lease.ok() && lease->has_value());
      v1::JobResult r;
      r.set_job_id((*lease)->shard().jobs(0).id());
      ASSERT_TRUE(*queue.Complete((*lease)->id(), (*lease)->epoch(), r));
    }
    auto lease = queue.Acquire("n2", 0);
    ASSERT_TRUE(lease.ok() && lease->has_value());
    held = **lease;
  }
  auto store = MustOpen();
  LeaseQueue queue(store.get(), &clock);
  ASSERT_TRUE(queue.Recover().ok());
  auto sweep = queue.GetSweep(sweep_id);
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->counts().done(), 2u);
  EXPECT_EQ(sweep->counts().leased(), 1u);
  EXPECT_EQ(sweep->counts().pending(), 3u);
  // The holder of the recovered lease may still finish its job...
  v1::JobResult r;
  r.set_job_id(held.shard().jobs(0).id());
  // ...but only within its TTL; past it the job goes back to the queue.
  clock.Advance(queue.lease_ttl() + absl::Seconds(1));
  EXPECT_EQ(queue.ExpireLeases(), 1);
  EXPECT_FALSE(*queue.Complete(held.id(), held.epoch(), r));
  std::set<uint64_t> epochs;
  for (int i = 0; i < 4; ++i) {
    auto lease = queue.Acquire("n3", 0);
    ASSERT_TRUE(lease.ok() && lease->has_value());
    EXPECT_GT((*lease)->epoch(), held.epoch());
    EXPECT_TRUE(epochs.insert((*lease)->epoch()).second);
    v1::JobResult done;
    done.set_job_id((*lease)->shard().jobs(0).id());
    ASSERT_TRUE(*queue.Complete((*lease)->id(), (*lease)->epoch(), done));
  }
  EXPECT_EQ(queue.GetSweep(sweep_id)->state(), v1::SWEEP_STATE_DONE);
}

TEST_F(SqliteStateStoreTest, AFailedFlushIsFinalAndSaysWhy) {
  int flushes = 0;
  std::vector<absl::Status> reported;
  SqliteStateStoreOptions options;
  options.fdatasync = [&](int) {
    ++flushes;
    errno = EIO;
    return -1;
  };
  options.on_sync_failure = [&](const absl::Status& st) {
    reported.push_back(st);
  };
  auto store = SqliteStateStore::Open(dir_.string(), options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->PutJobs({Job("s", 0, v1::JOB_STATE_PENDING)}).ok());
  const absl::Status first = (*store)->Sync();
  EXPECT_EQ(first.code(), absl::StatusCode::kDataLoss) << first;
  EXPECT_NE(first.message().find("fdatasync"), std::string::npos) << first;
  EXPECT_NE(first.message().find("coordinator.db-wal"), std::string::npos);
  ASSERT_EQ(reported.size(), 1u);
  // Never retried: a second flush could "succeed" with the pages gone.
  EXPECT_EQ((*store)->Sync(), first);
  EXPECT_EQ(flushes, 1);
  EXPECT_EQ((*store)->PutJobs({Job("s", 1, v1::JOB_STATE_PENDING)}), first);
  EXPECT_EQ(reported.size(), 1u);
}

TEST_F(SqliteStateStoreTest, ErrnosMapToHonestCodes) {
  SqliteStateStoreOptions options;
  options.fdatasync = [](int) {
    errno = ENOSPC;
    return -1;
  };
  auto store = SqliteStateStore::Open(dir_.string(), options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->PutJobs({Job("s", 0, v1::JOB_STATE_PENDING)}).ok());
  EXPECT_EQ((*store)->Sync().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(SqliteStateStoreTest, ABatchIsOneTransaction) {
  {
    auto store = MustOpen();
    StateBatch batch;
    v1::SweepStatus sweep;
    sweep.set_id("s");
    batch.PutSweep(sweep);
    batch.PutJobs({Job("s", 0, v1::JOB_STATE_LEASED)});
    LeaseRecord lease;
    lease.epoch = 7;
    lease.sweep_id = "s";
    lease.slots = {0};
    batch.PutLease(lease);
    batch.DeleteLease(7);  // in order: put, then deleted
    ASSERT_TRUE(store->Write(batch).ok());
  }
  auto store = MustOpen();
  RecoveredState state;
  ASSERT_TRUE(store->Load(&state).ok());
  EXPECT_EQ(state.sweeps.size(), 1u);
  EXPECT_EQ(state.jobs.size(), 1u);
  EXPECT_TRUE(state.leases.empty());
  EXPECT_GE(state.max_epoch, 7u);
}

}  // namespace
}  // namespace reelfarm
