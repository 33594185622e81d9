// A real coordinator on 127.0.0.1 and a node whose lanes drive two devices
// each: jobs that ask for two devices render on both, the node reports each
// device's progress, and `status --nodes` data shows it per lane.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "coordinator/coordinator_server.h"
#include "node/node_agent.h"
#include "tests/coordinator/test_specs.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;

class NodeLanesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / "node_lanes_test";
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "out");
    CoordinatorOptions options;
    options.listen_address = "127.0.0.1:0";
    options.security.insecure = true;
    // Heartbeats every 250 ms.
    options.queue.lease_ttl = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<CoordinatorServer>> server =
        CoordinatorServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  std::unique_ptr<CoordinatorServer> server_;
};

TEST_F(NodeLanesTest, TwoDeviceJobsRenderOnTwoDevicesWithProgressForEach) {
  v1::SweepSpec spec = testing_specs::GridSpec(2, 2, (dir_ / "out").string());
  spec.mutable_blocks(0)->mutable_base()->set_devices_per_video(2);
  spec.mutable_renderer()->set_test_pattern_ms_per_job(1500);
  absl::StatusOr<SubmitResult> submitted = server_->lease_queue()->Submit(spec);
  ASSERT_TRUE(submitted.ok()) << submitted.status();

  NodeOptions options;
  options.coordinator = server_->address();
  for (int i = 0; i < 4; ++i) options.devices.emplace_back().set_name("cpu");
  options.devices_per_lane = 2;
  NodeAgent node(options);
  ASSERT_EQ(node.lane_devices().size(), 2u);
  ASSERT_TRUE(node.Start().ok());

  // The coordinator sees two lanes of two devices, and soon a lane
  // rendering with progress on both of its devices.
  bool saw_devices = false;
  uint64_t cursor = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!saw_devices && absl::Now() < deadline) {
    const std::vector<v1::Node> nodes = server_->lease_queue()->ListNodes();
    ASSERT_EQ(nodes.size(), 1u);
    ASSERT_EQ(nodes[0].lane_layout_size(), 2);
    EXPECT_EQ(nodes[0].lane_layout(1).devices_size(), 2);
    for (const v1::LaneActivity& a : nodes[0].activity()) {
      if (a.devices_size() == 2 && a.devices(1).fraction() > 0) {
        saw_devices = true;
        EXPECT_EQ(a.devices(0).device(), "cpu");
        EXPECT_FALSE(a.job_id().empty());
      }
    }
    // Heartbeats change no job: this waits out the poll interval unless a
    // job finishes meanwhile.
    auto changes = server_->lease_queue()->WaitForChanges(
        submitted->sweep_id, cursor, absl::Milliseconds(50));
    ASSERT_TRUE(changes.ok()) << changes.status();
    cursor = changes->cursor;
  }
  EXPECT_TRUE(saw_devices) << "no lane reported two devices' progress";

  for (;;) {
    auto changes = server_->lease_queue()->WaitForChanges(
        submitted->sweep_id, cursor, absl::Seconds(30));
    ASSERT_TRUE(changes.ok()) << changes.status();
    cursor = changes->cursor;
    if (changes->sweep.state() != v1::SWEEP_STATE_RUNNING) break;
  }
  auto jobs = server_->lease_queue()->ListJobs(submitted->sweep_id);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 4u);
  for (const v1::JobStatus& j : *jobs) {
    EXPECT_EQ(j.state(), v1::JOB_STATE_DONE);
    EXPECT_EQ(j.result().devices_size(), 2) << j.job().id();
  }
  node.Stop();
}

}  // namespace
}  // namespace reelfarm
