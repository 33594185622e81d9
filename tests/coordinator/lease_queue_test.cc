#include "coordinator/lease_queue/lease_queue.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <set>

#include "coordinator/state/state_store.h"
#include "tests/coordinator/test_specs.h"

namespace reelfarm {
namespace {

using testing_specs::GridSpec;

class LeaseQueueTest : public ::testing::Test {
 protected:
  LeaseQueueTest() { Restart(); }

  // A new queue on the same store: what a coordinator restart does.
  void Restart() {
    LeaseQueueOptions options;
    options.lease_ttl = absl::Seconds(30);
    options.default_max_attempts = 3;
    queue_ = std::make_unique<LeaseQueue>(&store_, &clock_, options);
    ASSERT_TRUE(queue_->Recover().ok());
  }

  v1::Lease MustAcquire(const std::string& node = "n1") {
    auto lease = queue_->Acquire(node, 0);
    EXPECT_TRUE(lease.ok());
    EXPECT_TRUE(lease->has_value());
    return lease->value_or(v1::Lease());
  }

  v1::JobResult ResultFor(const v1::Lease& lease, int job = 0) {
    v1::JobResult r;
    r.set_job_id(lease.shard().jobs(job).id());
    r.set_node_id(lease.node_id());
    return r;
  }

  MemoryStateStore store_;
  FakeClock clock_;
  std::unique_ptr<LeaseQueue> queue_;
};

TEST_F(LeaseQueueTest, SubmitCountsJobsAndIsIdempotent) {
  auto first = queue_->Submit(GridSpec(3, 4, "/tmp/out"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->jobs, 12u);
  auto again = queue_->Submit(GridSpec(3, 4, "/tmp/out"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sweep_id, first->sweep_id);
  EXPECT_EQ(queue_->ListSweeps().size(), 1u);
  auto other = queue_->Submit(GridSpec(3, 4, "/tmp/elsewhere"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->sweep_id, first->sweep_id);
}

TEST_F(LeaseQueueTest, EveryJobLeasedOnceThenSweepDone) {
  auto sub = queue_->Submit(GridSpec(2, 5, "/tmp/out"));
  ASSERT_TRUE(sub.ok());
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) {
    v1::Lease lease = MustAcquire();
    ASSERT_EQ(lease.shard().jobs_size(), 1);
    EXPECT_TRUE(seen.insert(lease.shard().jobs(0).id()).second);
    auto ok = queue_->Complete(lease.id(), lease.epoch(), ResultFor(lease));
    ASSERT_TRUE(ok.ok());
    EXPECT_TRUE(*ok);
  }
  auto none = queue_->Acquire("n1", 0);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto sweep = queue_->GetSweep(sub->sweep_id);
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->state(), v1::SWEEP_STATE_DONE);
  EXPECT_EQ(sweep->counts().done(), 10u);
}

TEST_F(LeaseQueueTest, ShardsCarrySeveralJobs) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 5, "/tmp/out", 2)).ok());
  EXPECT_EQ(MustAcquire().shard().jobs_size(), 2);
  EXPECT_EQ(MustAcquire().shard().jobs_size(), 2);
  EXPECT_EQ(MustAcquire().shard().jobs_size(), 1);
}

TEST_F(LeaseQueueTest, ExpiredLeaseIsRequeuedAndFencedOut) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 1, "/tmp/out")).ok());
  v1::Lease stale = MustAcquire("slow");
  clock_.Advance(absl::Seconds(29));
  EXPECT_EQ(queue_->ExpireLeases(), 0);
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(queue_->ExpireLeases(), 1);
  v1::Lease fresh = MustAcquire("fast");
  EXPECT_GT(fresh.epoch(), stale.epoch());
  EXPECT_EQ(fresh.shard().jobs(0).id(), stale.shard().jobs(0).id());
  // The node that lost its lease cannot commit over the new holder.
  auto late = queue_->Complete(stale.id(), stale.epoch(), ResultFor(stale));
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(*late);
  EXPECT_EQ(queue_->Heartbeat("slow", {stale.id()}),
            std::vector<std::string>{stale.id()});
  auto ok = queue_->Complete(fresh.id(), fresh.epoch(), ResultFor(fresh));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(*ok);
}

TEST_F(LeaseQueueTest, HeartbeatKeepsLeaseAlive) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 1, "/tmp/out")).ok());
  v1::Lease lease = MustAcquire();
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Seconds(20));
    EXPECT_TRUE(queue_->Heartbeat("n1", {lease.id()}).empty());
    EXPECT_EQ(queue_->ExpireLeases(), 0);
  }
  // Another node cannot renew someone else's lease.
  EXPECT_EQ(queue_->Heartbeat("intruder", {lease.id()}).size(), 1u);
}

TEST_F(LeaseQueueTest, RetriesAreBoundedThenJobFails) {
  auto sub = queue_->Submit(GridSpec(1, 2, "/tmp/out"));
  ASSERT_TRUE(sub.ok());
  std::string doomed;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    v1::Lease lease = MustAcquire();
    if (doomed.empty()) doomed = lease.shard().jobs(0).id();
    if (lease.shard().jobs(0).id() != doomed) {
      ASSERT_TRUE(
          queue_->Complete(lease.id(), lease.epoch(), ResultFor(lease)).ok());
      lease = MustAcquire();
    }
    v1::JobResult r = ResultFor(lease);
    r.set_error("out of memory");
    auto outcome = queue_->Fail(lease.id(), lease.epoch(), r, true);
    ASSERT_TRUE(outcome.ok());
    EXPECT_TRUE(outcome->accepted);
    EXPECT_EQ(outcome->will_retry, attempt < 3);
  }
  auto sweep = queue_->GetSweep(sub->sweep_id);
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->state(), v1::SWEEP_STATE_FAILED);
  EXPECT_EQ(sweep->counts().failed(), 1u);
  EXPECT_EQ(sweep->counts().done(), 1u);
  auto jobs = queue_->ListJobs(sub->sweep_id);
  ASSERT_TRUE(jobs.ok());
  for (const v1::JobStatus& j : *jobs) {
    if (j.job().id() == doomed) {
      EXPECT_EQ(j.state(), v1::JOB_STATE_FAILED);
      EXPECT_EQ(j.attempts(), 3u);
      EXPECT_EQ(j.last_error(), "out of memory");
    }
  }
}

TEST_F(LeaseQueueTest, NonRetryableFailureFailsAtOnce) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 1, "/tmp/out")).ok());
  v1::Lease lease = MustAcquire();
  v1::JobResult r = ResultFor(lease);
  r.set_error("bad checkpoint");
  auto outcome = queue_->Fail(lease.id(), lease.epoch(), r, false);
  ASSERT_TRUE(outcome.ok());
  EXPECT_FALSE(outcome->will_retry);
}

TEST_F(LeaseQueueTest, ReleaseHandsBackWithoutCountingAnAttempt) {
  auto sub = queue_->Submit(GridSpec(1, 1, "/tmp/out"));
  ASSERT_TRUE(sub.ok());
  for (int i = 0; i < 5; ++i) {
    v1::Lease lease = MustAcquire();
    ASSERT_TRUE(queue_->Release(lease.id(), lease.epoch()).ok());
  }
  auto jobs = queue_->ListJobs(sub->sweep_id);
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ((*jobs)[0].state(), v1::JOB_STATE_PENDING);
  EXPECT_EQ((*jobs)[0].attempts(), 0u);
}

TEST_F(LeaseQueueTest, CancelStopsPendingAndLeasedJobs) {
  auto sub = queue_->Submit(GridSpec(1, 3, "/tmp/out"));
  ASSERT_TRUE(sub.ok());
  v1::Lease lease = MustAcquire();
  auto cancelled = queue_->Cancel(sub->sweep_id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state(), v1::SWEEP_STATE_CANCELLED);
  EXPECT_EQ(cancelled->counts().cancelled(), 3u);
  EXPECT_EQ(queue_->Heartbeat("n1", {lease.id()}).size(), 1u);
  auto late = queue_->Complete(lease.id(), lease.epoch(), ResultFor(lease));
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(*late);
  auto none = queue_->Acquire("n1", 0);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(LeaseQueueTest, RecoversFromItsStore) {
  auto sub = queue_->Submit(GridSpec(1, 3, "/tmp/out"));
  ASSERT_TRUE(sub.ok());
  v1::Lease done = MustAcquire();
  ASSERT_TRUE(queue_->Complete(done.id(), done.epoch(), ResultFor(done)).ok());
  v1::Lease held = MustAcquire("gone");
  Restart();
  auto sweep = queue_->GetSweep(sub->sweep_id);
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->counts().done(), 1u);
  EXPECT_EQ(sweep->counts().leased(), 1u);
  EXPECT_EQ(sweep->counts().pending(), 1u);
  // New epochs continue past the old ones; the dead node's lease expires.
  v1::Lease next = MustAcquire();
  EXPECT_GT(next.epoch(), held.epoch());
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(queue_->ExpireLeases(), 2);
}

TEST_F(LeaseQueueTest, WatchersPageThroughFinishedJobs) {
  auto sub = queue_->Submit(GridSpec(1, 3, "/tmp/out"));
  ASSERT_TRUE(sub.ok());
  auto none = queue_->WaitForChanges(sub->sweep_id, 0, absl::ZeroDuration());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->finished.empty());
  uint64_t cursor = 0;
  for (int i = 0; i < 3; ++i) {
    v1::Lease lease = MustAcquire();
    ASSERT_TRUE(
        queue_->Complete(lease.id(), lease.epoch(), ResultFor(lease)).ok());
    auto changes =
        queue_->WaitForChanges(sub->sweep_id, cursor, absl::ZeroDuration());
    ASSERT_TRUE(changes.ok());
    ASSERT_EQ(changes->finished.size(), 1u);
    EXPECT_EQ(changes->finished[0].job().id(), lease.shard().jobs(0).id());
    cursor = changes->cursor;
  }
  EXPECT_EQ(queue_->GetSweep(sub->sweep_id)->state(), v1::SWEEP_STATE_DONE);
}

TEST_F(LeaseQueueTest, ShuttingDownStillTakesResultsOfHeldLeases) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 2, "/tmp/out")).ok());
  v1::Lease lease = MustAcquire();
  queue_->Shutdown();
  auto none = queue_->Acquire("n2", 0);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());  // no new work while stopping
  EXPECT_FALSE(queue_->WaitForLeasesToEnd(absl::Milliseconds(1)));
  auto done = queue_->Complete(lease.id(), lease.epoch(), ResultFor(lease));
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(*done);
  EXPECT_TRUE(queue_->WaitForLeasesToEnd(absl::ZeroDuration()));
}

TEST_F(LeaseQueueTest, UnknownSweepIsNotFound) {
  EXPECT_EQ(queue_->GetSweep("sw-nope").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(queue_->Cancel("sw-nope").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LeaseQueueTest, ASweepOverTheLimitIsRefusedBeforeItsJobsAreMade) {
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  // 31623 x 31623: a billion jobs.
  auto huge = queue_->Submit(GridSpec(31623, 31623, "/tmp/out"));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(huge.status().message().find("1000014129 jobs"), std::string::npos)
      << huge.status();
  EXPECT_NE(huge.status().message().find("10000000"), std::string::npos);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  // Flat memory: nothing per job was allocated (ru_maxrss is in KiB).
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 64 * 1024);
  EXPECT_TRUE(queue_->ListSweeps().empty());
}

}  // namespace
}  // namespace reelfarm
