// A real coordinator on 127.0.0.1 and node agents with `exit_when_idle`:
// a node renders its share of a sweep and exits once the work has run out,
// one with nothing to do exits after the idle limit, and one without the
// limit keeps waiting for work.

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

class NodeIdleExitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / "node_idle_exit_test";
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "out");
    CoordinatorOptions options;
    options.listen_address = "127.0.0.1:0";
    options.security.insecure = true;
    absl::StatusOr<std::unique_ptr<CoordinatorServer>> server =
        CoordinatorServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    fs::remove_all(dir_);
  }

  NodeOptions Options(absl::Duration exit_when_idle) {
    NodeOptions o;
    o.coordinator = server_->address();
    o.devices.emplace_back().set_name("cpu");
    o.lanes = 2;
    o.exit_when_idle = exit_when_idle;
    return o;
  }

  fs::path dir_;
  std::unique_ptr<CoordinatorServer> server_;
};

TEST_F(NodeIdleExitTest, ExitsAfterTheSweepIsDoneAndNotBefore) {
  absl::StatusOr<SubmitResult> submitted = server_->lease_queue()->Submit(
      testing_specs::GridSpec(3, 4, (dir_ / "out").string()));
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  NodeAgent node(Options(absl::Milliseconds(500)));
  ASSERT_TRUE(node.Start().ok());
  // The lanes end on their own, without Drain or Stop.
  ASSERT_TRUE(node.WaitFor(absl::Seconds(60)));
  EXPECT_TRUE(node.exited_idle());
  EXPECT_EQ(node.jobs_completed(), 12u);
  absl::StatusOr<v1::SweepStatus> sweep =
      server_->lease_queue()->GetSweep(submitted->sweep_id);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  EXPECT_EQ(sweep->state(), v1::SWEEP_STATE_DONE);
  node.Stop();
}

TEST_F(NodeIdleExitTest, NodeWithNothingToDoExitsAfterTheLimit) {
  NodeAgent node(Options(absl::Milliseconds(300)));
  const absl::Time started = absl::Now();
  ASSERT_TRUE(node.Start().ok());
  ASSERT_TRUE(node.WaitFor(absl::Seconds(30)));
  EXPECT_GE(absl::Now() - started, absl::Milliseconds(300));
  EXPECT_TRUE(node.exited_idle());
  EXPECT_EQ(node.jobs_completed(), 0u);
  node.Stop();
}

TEST_F(NodeIdleExitTest, WithoutALimitTheNodeWaitsForWork) {
  NodeOptions options = Options(absl::ZeroDuration());
  options.acquire_wait = absl::Milliseconds(100);
  NodeAgent node(options);
  ASSERT_TRUE(node.Start().ok());
  // Many empty polls later it still runs, and renders a sweep submitted now.
  EXPECT_FALSE(node.WaitFor(absl::Seconds(1)));
  absl::StatusOr<SubmitResult> submitted = server_->lease_queue()->Submit(
      testing_specs::GridSpec(1, 2, (dir_ / "out").string()));
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (node.jobs_completed() < 2 && absl::Now() < give_up) {
    EXPECT_FALSE(node.WaitFor(absl::Milliseconds(50)));
  }
  EXPECT_EQ(node.jobs_completed(), 2u);
  EXPECT_FALSE(node.exited_idle());
  node.Stop();
}

}  // namespace
}  // namespace reelfarm
