// Every state transition is one StateStore::Write, so a coordinator killed
// between two writes recovers a state some prefix of its transitions left.
// A store that stops taking writes after N of them stands for that kill:
// for every N, the queue rebuilt from what was written must hold no job
// leased under a lease that is gone, no sweep without its jobs, and must
// finish every job once its leases expire.

#include <gtest/gtest.h>

#include <memory>

#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/state/state_store.h"
#include "tests/coordinator/test_specs.h"

namespace reelfarm {
namespace {

using testing_specs::GridSpec;

// Applies the first `writes_left` batches, then refuses every write as a
// dead process would have made none.
class StoreThatDies : public MemoryStateStore {
 public:
  explicit StoreThatDies(int writes_left) : writes_left_(writes_left) {}

  absl::Status Write(const StateBatch& batch) override {
    ++writes_seen_;
    if (writes_left_ <= 0) return absl::UnavailableError("the process died");
    --writes_left_;
    return MemoryStateStore::Write(batch);
  }

  int writes_seen() const { return writes_seen_; }

 private:
  int writes_left_;
  int writes_seen_ = 0;
};

LeaseQueueOptions Options() {
  LeaseQueueOptions options;
  options.lease_ttl = absl::Seconds(30);
  options.default_max_attempts = 5;
  options.max_lost_leases = 5;
  return options;
}

v1::JobResult ResultFor(const v1::Lease& lease) {
  v1::JobResult r;
  r.set_job_id(lease.shard().jobs(0).id());
  r.set_node_id(lease.node_id());
  return r;
}

// Submit, grants, a result, a failure, a hand-back and an expiry: every
// transition that writes several rows. Returns how many writes it made.
int RunTransitions(StoreThatDies& store, FakeClock& clock) {
  LeaseQueue queue(&store, &clock, Options());
  if (!queue.Recover().ok()) return store.writes_seen();
  if (!queue.Submit(GridSpec(2, 3, "/tmp/out")).ok()) {
    return store.writes_seen();
  }
  auto a = queue.Acquire("n1", 0);
  if (a.ok() && a->has_value()) {
    queue.Complete((*a)->id(), (*a)->epoch(), ResultFor(**a)).IgnoreError();
  }
  auto b = queue.Acquire("n1", 1);
  if (b.ok() && b->has_value()) {
    v1::JobResult failed = ResultFor(**b);
    failed.set_error("out of memory");
    queue.Fail((*b)->id(), (*b)->epoch(), failed, /*retryable=*/true)
        .IgnoreError();
  }
  auto c = queue.Acquire("n2", 0);
  if (c.ok() && c->has_value()) {
    queue.Release((*c)->id(), (*c)->epoch()).IgnoreError();
  }
  auto d = queue.Acquire("n2", 1);
  (void)d;
  clock.Advance(absl::Minutes(1));
  queue.ExpireLeases();
  queue.Cancel("no-such-sweep").IgnoreError();
  return store.writes_seen();
}

TEST(LeaseQueueCrashTest, EveryPrefixOfWritesRecoversToAWorkableQueue) {
  int total = 0;
  {
    StoreThatDies store(1 << 30);
    FakeClock clock;
    total = RunTransitions(store, clock);
  }
  ASSERT_GT(total, 6);
  for (int n = 0; n <= total; ++n) {
    SCOPED_TRACE(::testing::Message() << "killed after " << n << " writes");
    StoreThatDies store(n);
    FakeClock clock;
    RunTransitions(store, clock);

    // The restart: the rows written before the kill, a new queue.
    MemoryStateStore survived;
    RecoveredState state;
    ASSERT_TRUE(store.Load(&state).ok());
    StateBatch copy;
    for (const v1::SweepStatus& s : state.sweeps) copy.PutSweep(s);
    copy.PutJobs(state.jobs);
    for (const LeaseRecord& l : state.leases) copy.PutLease(l);
    ASSERT_TRUE(survived.Write(copy).ok());
    LeaseQueue queue(&survived, &clock, Options());
    ASSERT_TRUE(queue.Recover().ok());

    for (const v1::SweepStatus& s : queue.ListSweeps()) {
      EXPECT_EQ(s.counts().total(), 6u) << "a sweep without all its jobs";
    }
    // Whatever was leased when it died expires, and then every job can be
    // finished.
    clock.Advance(absl::Minutes(5));
    queue.ExpireLeases();
    for (int guard = 0; guard < 20; ++guard) {
      auto lease = queue.Acquire("n3", 0);
      ASSERT_TRUE(lease.ok());
      if (!lease->has_value()) break;
      ASSERT_TRUE(
          queue.Complete((*lease)->id(), (*lease)->epoch(), ResultFor(**lease))
              .ok());
    }
    for (const v1::SweepStatus& s : queue.ListSweeps()) {
      EXPECT_EQ(s.counts().done(), s.counts().total());
      EXPECT_EQ(s.counts().leased(), 0u);
      EXPECT_EQ(s.state(), v1::SWEEP_STATE_DONE);
    }
  }
}

TEST(LeaseQueueCrashTest, RecoveryQueuesAgainAJobLeasedUnderALostLease) {
  MemoryStateStore store;
  FakeClock clock;
  std::string sweep_id;
  {
    LeaseQueue queue(&store, &clock, Options());
    ASSERT_TRUE(queue.Recover().ok());
    auto sub = queue.Submit(GridSpec(1, 2, "/tmp/out"));
    ASSERT_TRUE(sub.ok());
    sweep_id = sub->sweep_id;
    auto lease = queue.Acquire("n1", 0);
    ASSERT_TRUE(lease.ok() && lease->has_value());
    // What an older version could leave: the lease's row gone, its job's
    // row still leased.
    ASSERT_TRUE(store.DeleteLease((*lease)->epoch()).ok());
  }
  LeaseQueue queue(&store, &clock, Options());
  ASSERT_TRUE(queue.Recover().ok());
  auto sweep = queue.GetSweep(sweep_id);
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->counts().leased(), 0u);
  EXPECT_EQ(sweep->counts().pending(), 2u);
  // The repair is written: another restart finds it as repaired.
  LeaseQueue again(&store, &clock, Options());
  ASSERT_TRUE(again.Recover().ok());
  EXPECT_EQ(again.GetSweep(sweep_id)->counts().pending(), 2u);
}

}  // namespace
}  // namespace reelfarm
