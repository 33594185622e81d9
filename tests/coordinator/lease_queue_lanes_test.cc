// Lanes of several devices: jobs that ask for several devices go to a lane
// that has them, narrower lanes take them only when no such lane is alive,
// and heartbeats carry each device's progress to ListNodes.

#include <gtest/gtest.h>

#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/state/state_store.h"
#include "tests/coordinator/test_specs.h"

namespace reelfarm {
namespace {

using testing_specs::GridSpec;

// A node whose lanes drive `widths[i]` devices each.
v1::Node NodeWithLanes(const std::string& id, std::vector<int> widths) {
  v1::Node node;
  node.set_id(id);
  node.set_lanes(widths.size());
  int device = 0;
  for (size_t lane = 0; lane < widths.size(); ++lane) {
    v1::Lane* l = node.add_lane_layout();
    l->set_index(lane);
    for (int d = 0; d < widths[lane]; ++d) {
      l->add_devices("cuda:" + std::to_string(device++));
    }
  }
  return node;
}

// Two prompts of 2 seeds; prompt 0's jobs ask for `wide` devices.
v1::SweepSpec MixedSpec(uint32_t wide) {
  v1::SweepSpec spec = GridSpec(1, 2, "/out");
  v1::SweepBlock* block = spec.add_blocks();
  *block = spec.blocks(0);
  block->set_name("1");
  block->mutable_base()->set_prompt("narrow");
  block->mutable_groups(0)->mutable_axes(0)->mutable_values(0)->set_text(
      "narrow");
  spec.mutable_blocks(0)->mutable_base()->set_devices_per_video(wide);
  return spec;
}

class LeaseQueueLanesTest : public ::testing::Test {
 protected:
  LeaseQueueLanesTest() {
    queue_ = std::make_unique<LeaseQueue>(&store_, &clock_, options_);
    EXPECT_TRUE(queue_->Recover().ok());
  }

  // The devices_per_video of every job `node`'s `lane` is leased, in order,
  // until it gets nothing.
  std::vector<uint32_t> Drain(const std::string& node, uint32_t lane) {
    std::vector<uint32_t> got;
    for (;;) {
      auto lease = queue_->Acquire(node, lane);
      EXPECT_TRUE(lease.ok());
      if (!lease.ok() || !lease->has_value()) return got;
      const v1::Job& job = (*lease)->shard().jobs(0);
      got.push_back(std::max(1u, job.params().devices_per_video()));
      v1::JobResult r;
      r.set_job_id(job.id());
      EXPECT_TRUE(*queue_->Complete((*lease)->id(), (*lease)->epoch(), r));
    }
  }

  LeaseQueueOptions options_;
  MemoryStateStore store_;
  FakeClock clock_;
  std::unique_ptr<LeaseQueue> queue_;
};

TEST_F(LeaseQueueLanesTest, WideJobsWaitForAWideLane) {
  queue_->RegisterNode(NodeWithLanes("narrow", {1, 1}));
  queue_->RegisterNode(NodeWithLanes("wide", {2}));
  ASSERT_TRUE(queue_->Submit(MixedSpec(2)).ok());
  // The narrow lanes pass over the two jobs that want two devices.
  EXPECT_EQ(Drain("narrow", 0), (std::vector<uint32_t>{1, 1}));
  EXPECT_TRUE(queue_->HasPendingWork());
  EXPECT_TRUE(Drain("narrow", 1).empty());
  EXPECT_EQ(Drain("wide", 0), (std::vector<uint32_t>{2, 2}));
  EXPECT_FALSE(queue_->HasPendingWork());
}

TEST_F(LeaseQueueLanesTest, AWideLaneTakesNarrowJobsToo) {
  queue_->RegisterNode(NodeWithLanes("wide", {2}));
  ASSERT_TRUE(queue_->Submit(MixedSpec(2)).ok());
  EXPECT_EQ(Drain("wide", 0), (std::vector<uint32_t>{2, 2, 1, 1}));
}

TEST_F(LeaseQueueLanesTest, WithNoWideLaneAliveNarrowLanesRenderWideJobs) {
  queue_->RegisterNode(NodeWithLanes("narrow", {1}));
  queue_->RegisterNode(NodeWithLanes("wide", {2}));
  ASSERT_TRUE(queue_->Submit(MixedSpec(2)).ok());
  EXPECT_EQ(Drain("narrow", 0), (std::vector<uint32_t>{1, 1}));
  // The wide node goes quiet for longer than a lease.
  clock_.Advance(options_.lease_ttl + absl::Seconds(1));
  EXPECT_EQ(Drain("narrow", 0), (std::vector<uint32_t>{2, 2}));
}

TEST_F(LeaseQueueLanesTest, AJobAskingForMoreThanAnyLaneHasGoesToTheWidest) {
  queue_->RegisterNode(NodeWithLanes("one", {1}));
  queue_->RegisterNode(NodeWithLanes("two", {2}));
  ASSERT_TRUE(queue_->Submit(MixedSpec(8)).ok());
  EXPECT_EQ(Drain("one", 0), (std::vector<uint32_t>{1, 1}));
  EXPECT_EQ(Drain("two", 0), (std::vector<uint32_t>{8, 8}));
}

TEST_F(LeaseQueueLanesTest, NodesWithoutALayoutHaveLanesOfOneDevice) {
  v1::Node old;
  old.set_id("old");
  old.set_lanes(1);
  queue_->RegisterNode(old);
  queue_->RegisterNode(NodeWithLanes("wide", {2}));
  ASSERT_TRUE(queue_->Submit(MixedSpec(2)).ok());
  EXPECT_EQ(Drain("old", 0), (std::vector<uint32_t>{1, 1}));
}

TEST_F(LeaseQueueLanesTest, AWideJobThatFailedOnTheWideNodeGoesToANarrowOne) {
  queue_->RegisterNode(NodeWithLanes("wide", {2}));
  queue_->RegisterNode(NodeWithLanes("narrow", {1}));
  ASSERT_TRUE(queue_->Submit(MixedSpec(2)).ok());
  auto lease = queue_->Acquire("wide", 0);
  ASSERT_TRUE(lease.ok() && lease->has_value());
  v1::JobResult r;
  r.set_job_id((*lease)->shard().jobs(0).id());
  r.set_error("device lost");
  auto failed = queue_->Fail((*lease)->id(), (*lease)->epoch(), r,
                             /*retryable=*/true);
  ASSERT_TRUE(failed.ok() && failed->will_retry);
  // The narrow lane takes it (on one device) rather than leave it to the
  // node it failed on, which leaves it to the narrow one in turn.
  EXPECT_EQ(Drain("narrow", 0), (std::vector<uint32_t>{1, 1, 2}));
  EXPECT_EQ(Drain("wide", 0), (std::vector<uint32_t>{2}));
}

TEST_F(LeaseQueueLanesTest, ARestartedLeaseQueueLearnsWidthsFromLeaseCalls) {
  // No registrations (the coordinator restarted): lanes say their width.
  ASSERT_TRUE(queue_->Submit(MixedSpec(2)).ok());
  auto first = queue_->Acquire("wide", 0, /*lane_devices=*/2);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->shard().jobs(0).params().devices_per_video(), 2u);
  std::vector<uint32_t> narrow;
  for (;;) {
    auto lease = queue_->Acquire("narrow", 0, /*lane_devices=*/1);
    ASSERT_TRUE(lease.ok());
    if (!lease->has_value()) break;
    narrow.push_back(
        std::max(1u, (*lease)->shard().jobs(0).params().devices_per_video()));
  }
  EXPECT_EQ(narrow, (std::vector<uint32_t>{1, 1}));
}

TEST_F(LeaseQueueLanesTest, WorkGenerationCountsQueuedWork) {
  const uint64_t before = queue_->WorkGeneration();
  ASSERT_TRUE(queue_->Submit(GridSpec(1, 1, "/out")).ok());
  const uint64_t after = queue_->WorkGeneration();
  EXPECT_GT(after, before);
  // Work that appeared since `before`: no wait at all.
  queue_->WaitForWork(absl::Hours(1), before);
  // A lease taken and handed back queues the job again.
  auto lease = queue_->Acquire("n", 0);
  ASSERT_TRUE(lease.ok() && lease->has_value());
  EXPECT_EQ(queue_->WorkGeneration(), after);
  ASSERT_TRUE(queue_->Release((*lease)->id(), (*lease)->epoch()).ok());
  EXPECT_GT(queue_->WorkGeneration(), after);
}

TEST_F(LeaseQueueLanesTest, HeartbeatsShowEachDevicesProgress) {
  queue_->RegisterNode(NodeWithLanes("wide", {1, 2}));
  ASSERT_TRUE(queue_->Submit(MixedSpec(2)).ok());
  auto lease = queue_->Acquire("wide", 1);
  ASSERT_TRUE(lease.ok() && lease->has_value());
  const v1::Lease& l = **lease;
  v1::LeaseProgress p;
  p.set_lease_id(l.id());
  p.set_epoch(l.epoch());
  p.set_lane(7);  // the lease's own lane counts, not what the node says
  p.set_job_id(l.shard().jobs(0).id());
  p.set_fraction(0.25);
  for (auto [device, fraction] :
       {std::pair<const char*, double>{"cuda:1", 0.5}, {"cuda:2", 0.25}}) {
    v1::DeviceProgress* d = p.add_devices();
    d->set_device(device);
    d->set_fraction(fraction);
  }
  EXPECT_TRUE(queue_->HeartbeatWithProgress("wide", {p}).empty());
  std::vector<v1::Node> nodes = queue_->ListNodes();
  ASSERT_EQ(nodes.size(), 1u);
  ASSERT_EQ(nodes[0].activity_size(), 1);
  const v1::LaneActivity& a = nodes[0].activity(0);
  EXPECT_EQ(a.lane(), 1u);
  EXPECT_EQ(a.job_id(), l.shard().jobs(0).id());
  EXPECT_DOUBLE_EQ(a.fraction(), 0.25);
  ASSERT_EQ(a.devices_size(), 2);
  EXPECT_EQ(a.devices(0).device(), "cuda:1");
  EXPECT_DOUBLE_EQ(a.devices(0).fraction(), 0.5);
  EXPECT_EQ(nodes[0].lane_layout(1).devices_size(), 2);

  // Finished: the lane is idle at once, before the next heartbeat.
  v1::JobResult r;
  r.set_job_id(l.shard().jobs(0).id());
  ASSERT_TRUE(*queue_->Complete(l.id(), l.epoch(), r));
  EXPECT_EQ(queue_->ListNodes()[0].activity_size(), 0);
}

}  // namespace
}  // namespace reelfarm
