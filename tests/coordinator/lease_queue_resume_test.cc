// Resume, reuse across sweeps, quarantine and retrying elsewhere.

#include <gtest/gtest.h>

#include <set>

#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/state/state_store.h"
#include "tests/coordinator/test_specs.h"

namespace reelfarm {
namespace {

using testing_specs::GridSpec;

// Files on disk are the real verifier's business (output_verifier_test);
// here a job's files are intact unless the test says they are not.
class ListedVerifier : public OutputVerifier {
 public:
  absl::Status Verify(const std::string& dir,
                      const v1::JobResult& result) override {
    ++verified;
    if (broken.count(result.job_id())) {
      return absl::NotFoundError(dir + ": a frame is gone");
    }
    return absl::OkStatus();
  }
  absl::Status Adopt(const std::string& from, const std::string& to,
                     const v1::JobResult& result) override {
    adopted.emplace_back(from, to);
    return Verify(from, result);
  }
  absl::Status Discard(const std::string&,
                       const v1::JobResult& result) override {
    discarded.insert(result.job_id());
    return absl::OkStatus();
  }
  std::set<std::string> discarded;
  std::set<std::string> broken;
  std::vector<std::pair<std::string, std::string>> adopted;
  int verified = 0;
};

class LeaseQueueResumeTest : public ::testing::Test {
 protected:
  LeaseQueueResumeTest() {
    options_.verifier = &verifier_;
    options_.default_max_attempts = 2;
    options_.quarantine_after_failures = 2;
    options_.quarantine_for = absl::Minutes(1);
    queue_ = std::make_unique<LeaseQueue>(&store_, &clock_, options_);
    EXPECT_TRUE(queue_->Recover().ok());
  }

  std::optional<v1::Lease> Acquire(const std::string& node) {
    auto lease = queue_->Acquire(node, 0);
    EXPECT_TRUE(lease.ok());
    return lease.ok() ? *lease : std::nullopt;
  }

  // Leases every job to `node` and completes it; returns the ids.
  std::vector<std::string> RunAll(const std::string& node = "n1") {
    std::vector<std::string> ids;
    while (auto lease = Acquire(node)) {
      v1::JobResult r;
      r.set_job_id(lease->shard().jobs(0).id());
      r.set_node_id(node);
      r.add_files()->set_path("x/" + r.job_id() + ".png");
      EXPECT_TRUE(*queue_->Complete(lease->id(), lease->epoch(), r));
      ids.push_back(r.job_id());
    }
    return ids;
  }

  void FailOnce(const std::string& node, const v1::Lease& lease) {
    v1::JobResult r;
    r.set_job_id(lease.shard().jobs(0).id());
    r.set_error("disk full");
    auto outcome =
        queue_->Fail(lease.id(), lease.epoch(), r, /*retryable=*/true);
    ASSERT_TRUE(outcome.ok());
    ASSERT_TRUE(outcome->accepted);
  }

  LeaseQueueOptions options_;
  ListedVerifier verifier_;
  MemoryStateStore store_;
  FakeClock clock_;
  std::unique_ptr<LeaseQueue> queue_;
};

TEST_F(LeaseQueueResumeTest, ResubmittedSweepSkipsFinishedJobsAndSaysSo) {
  auto first = queue_->Submit(GridSpec(2, 2, "/out"));
  ASSERT_TRUE(first.ok());
  RunAll();
  // Two more seeds: the four finished jobs are reused, four are new.
  auto bigger = queue_->Submit(GridSpec(2, 4, "/out"));
  ASSERT_TRUE(bigger.ok());
  EXPECT_NE(bigger->sweep_id, first->sweep_id);
  EXPECT_EQ(bigger->jobs, 8u);
  EXPECT_EQ(bigger->already_done, 4u);
  EXPECT_EQ(bigger->reused, 4u);
  EXPECT_TRUE(verifier_.adopted.empty());  // same folder: verified in place
  EXPECT_EQ(RunAll().size(), 4u);
  auto jobs = queue_->ListJobs(bigger->sweep_id);
  ASSERT_TRUE(jobs.ok());
  int reused = 0;
  for (const v1::JobStatus& j : *jobs) {
    EXPECT_EQ(j.state(), v1::JOB_STATE_DONE);
    if (j.result().reused_from_sweep() == first->sweep_id) ++reused;
  }
  EXPECT_EQ(reused, 4);
}

TEST_F(LeaseQueueResumeTest, ReuseIntoAnotherFolderAdoptsTheFiles) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 2, "/a")).ok());
  RunAll();
  auto moved = queue_->Submit(GridSpec(1, 2, "/b"));
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->reused, 2u);
  ASSERT_EQ(verifier_.adopted.size(), 2u);
  EXPECT_EQ(verifier_.adopted[0],
            std::make_pair(std::string("/a"), std::string("/b")));
  EXPECT_EQ(queue_->GetSweep(moved->sweep_id)->state(), v1::SWEEP_STATE_DONE);
}

TEST_F(LeaseQueueResumeTest, JobWithMissingFilesIsNotReused) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 2, "/out")).ok());
  std::vector<std::string> ids = RunAll();
  verifier_.broken.insert(ids[0]);
  auto again = queue_->Submit(GridSpec(1, 3, "/out"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->reused, 1u);
  std::vector<std::string> rendered = RunAll();
  EXPECT_EQ(rendered.size(), 2u);
  EXPECT_EQ(std::count(rendered.begin(), rendered.end(), ids[0]), 1);
}

TEST_F(LeaseQueueResumeTest, ResumeRequeuesFailedAndBrokenJobs) {
  auto sub = queue_->Submit(GridSpec(1, 4, "/out"));
  ASSERT_TRUE(sub.ok());
  // One job fails for good, one is rendered and then loses its files.
  auto lease = Acquire("n1");
  v1::JobResult bad;
  bad.set_job_id(lease->shard().jobs(0).id());
  bad.set_error("bad prompt");
  ASSERT_TRUE(queue_->Fail(lease->id(), lease->epoch(), bad, false).ok());
  std::vector<std::string> done = RunAll();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(queue_->GetSweep(sub->sweep_id)->state(), v1::SWEEP_STATE_FAILED);
  verifier_.broken.insert(done[1]);

  auto resumed = queue_->Resume(sub->sweep_id);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->requeued, 2u);
  EXPECT_EQ(verifier_.discarded, std::set<std::string>{done[1]});
  EXPECT_EQ(resumed->already_done, 2u);
  auto sweep = queue_->GetSweep(sub->sweep_id);
  EXPECT_EQ(sweep->state(), v1::SWEEP_STATE_RUNNING);
  EXPECT_EQ(sweep->counts().pending(), 2u);
  std::vector<std::string> again = RunAll();
  EXPECT_EQ(std::set<std::string>(again.begin(), again.end()),
            std::set<std::string>({bad.job_id(), done[1]}));
  EXPECT_EQ(queue_->GetSweep(sub->sweep_id)->state(), v1::SWEEP_STATE_DONE);
  // Attempts start over: the resumed job had a fresh budget.
  for (const v1::JobStatus& j : *queue_->ListJobs(sub->sweep_id)) {
    EXPECT_LE(j.attempts(), 1u);
  }
}

TEST_F(LeaseQueueResumeTest, ResubmittingTheSameSweepResumesIt) {
  auto sub = queue_->Submit(GridSpec(1, 2, "/out"));
  std::vector<std::string> done = RunAll();
  verifier_.broken.insert(done[0]);
  auto again = queue_->Submit(GridSpec(1, 2, "/out"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sweep_id, sub->sweep_id);
  EXPECT_EQ(again->already_done, 1u);
  EXPECT_EQ(again->requeued, 1u);
  EXPECT_EQ(RunAll(), std::vector<std::string>{done[0]});
}

TEST_F(LeaseQueueResumeTest, ResumeOfUnknownSweepIsNotFound) {
  EXPECT_EQ(queue_->Resume("sw-nope").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LeaseQueueResumeTest, FailedJobIsRetriedOnAnotherNode) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 3, "/out")).ok());
  queue_->Heartbeat("n2", {});  // n2 is alive
  auto lease = Acquire("n1");
  const std::string failed = lease->shard().jobs(0).id();
  FailOnce("n1", *lease);
  // n1 asks again: it gets the other work, and the failed job waits for n2.
  for (int i = 0; i < 2; ++i) {
    auto next = Acquire("n1");
    ASSERT_TRUE(next.has_value());
    EXPECT_NE(next->shard().jobs(0).id(), failed);
  }
  EXPECT_FALSE(Acquire("n1").has_value());
  auto other = Acquire("n2");
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->shard().jobs(0).id(), failed);
}

TEST_F(LeaseQueueResumeTest, FailedJobReturnsWhenTheOtherNodeGoesQuiet) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 1, "/out")).ok());
  queue_->Heartbeat("n2", {});
  auto lease = Acquire("n1");
  FailOnce("n1", *lease);
  EXPECT_FALSE(Acquire("n1").has_value());
  clock_.Advance(options_.lease_ttl + absl::Seconds(1));  // n2 is gone
  EXPECT_TRUE(Acquire("n1").has_value());
}

TEST_F(LeaseQueueResumeTest, FailedJobAvoidsEveryNodeItFailedOn) {
  options_.default_max_attempts = 5;
  queue_ = std::make_unique<LeaseQueue>(&store_, &clock_, options_);
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 1, "/out")).ok());
  for (const char* n : {"n1", "n2", "n3"}) queue_->Heartbeat(n, {});
  FailOnce("n1", *Acquire("n1"));
  FailOnce("n2", *Acquire("n2"));
  EXPECT_FALSE(Acquire("n1").has_value());
  EXPECT_FALSE(Acquire("n2").has_value());
  EXPECT_TRUE(Acquire("n3").has_value());
}

TEST_F(LeaseQueueResumeTest, LostLeasesUseTheirOwnBudgetNotAttempts) {
  options_.max_lost_leases = 4;
  queue_ = std::make_unique<LeaseQueue>(&store_, &clock_, options_);
  auto sub = queue_->Submit(GridSpec(1, 1, "/out"));
  // More expiries than attempts (2): the job is still tried.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Acquire("n" + std::to_string(i)).has_value()) << i;
    clock_.Advance(options_.lease_ttl + absl::Seconds(1));
    EXPECT_EQ(queue_->ExpireLeases(), 1);
  }
  auto jobs = queue_->ListJobs(sub->sweep_id);
  EXPECT_EQ((*jobs)[0].state(), v1::JOB_STATE_PENDING);
  EXPECT_EQ((*jobs)[0].attempts(), 0u);
  // The fourth loss ends it, with an error that says why.
  ASSERT_TRUE(Acquire("n9").has_value());
  clock_.Advance(options_.lease_ttl + absl::Seconds(1));
  queue_->ExpireLeases();
  jobs = queue_->ListJobs(sub->sweep_id);
  EXPECT_EQ((*jobs)[0].state(), v1::JOB_STATE_FAILED);
  EXPECT_NE((*jobs)[0].last_error().find("lost its lease 4 times"),
            std::string::npos)
      << (*jobs)[0].last_error();
}

TEST_F(LeaseQueueResumeTest, FailedJobGoesBackToTheOnlyNodeThereIs) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 1, "/out")).ok());
  auto lease = Acquire("n1");
  FailOnce("n1", *lease);
  auto again = Acquire("n1");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->shard().jobs(0).id(), lease->shard().jobs(0).id());
}

TEST_F(LeaseQueueResumeTest, NodeThatKeepsFailingIsQuarantinedForAWhile) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 6, "/out")).ok());
  for (int i = 0; i < 2; ++i) FailOnce("bad", *Acquire("bad"));
  EXPECT_TRUE(queue_->IsQuarantined("bad"));
  EXPECT_FALSE(Acquire("bad").has_value());
  bool listed = false;
  for (const v1::Node& n : queue_->ListNodes()) {
    if (n.id() == "bad") listed = n.has_quarantined_until();
  }
  EXPECT_TRUE(listed);
  // Others carry on, including the jobs that failed there.
  EXPECT_EQ(RunAll("good").size(), 6u);
  clock_.Advance(options_.quarantine_for + absl::Seconds(1));
  EXPECT_FALSE(queue_->IsQuarantined("bad"));
}

TEST_F(LeaseQueueResumeTest, SuccessResetsTheFailureCount) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 6, "/out")).ok());
  FailOnce("n1", *Acquire("n1"));
  auto lease = Acquire("n1");
  v1::JobResult r;
  r.set_job_id(lease->shard().jobs(0).id());
  ASSERT_TRUE(*queue_->Complete(lease->id(), lease->epoch(), r));
  FailOnce("n1", *Acquire("n1"));
  EXPECT_FALSE(queue_->IsQuarantined("n1"));
}

TEST_F(LeaseQueueResumeTest, RecoveryRebuildsTheReuseIndex) {
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 2, "/out")).ok());
  RunAll();
  queue_ = std::make_unique<LeaseQueue>(&store_, &clock_, options_);
  ASSERT_TRUE(queue_->Recover().ok());
  auto more = queue_->Submit(GridSpec(1, 3, "/out"));
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(more->reused, 2u);
}

}  // namespace
}  // namespace reelfarm
