// Process groups on loopback: a coordinator, a leader and a follower, each
// its own process with one CPU device. A video that asks for two devices
// renders on both processes and equals a one-device render; a follower
// killed mid-job makes the leader hand the job back and exit with an
// error, and another node renders it: nothing is lost or done twice.

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "nlohmann/json.hpp"
#include "tests/integration/subprocess.h"
#include "tests/integration/tiny_animatediff.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;
using testing_process::Subprocess;

nlohmann::json Manifest(const fs::path& out) {
  return nlohmann::json::parse(std::ifstream(out / "manifest.json"));
}

class ProcessGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / "reelfarm_process_group_test";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    token_ = (dir_ / "token").string();
    std::ofstream(token_) << "process-group-test-token\n";
    coordinator_ = std::make_unique<Subprocess>(std::vector<std::string>{
        REELFARM_BINARY, "coordinator", "--listen", "127.0.0.1:0",
        "--token-file", token_, "--no-state", "--lease-ttl", "2"});
    const std::string line = coordinator_->ReadLine();
    ASSERT_EQ(line.rfind("listening on ", 0), 0u) << line;
    address_ = line.substr(strlen("listening on "));
  }

  void TearDown() override {
    if (coordinator_ != nullptr) {
      coordinator_->Signal(SIGTERM);
      coordinator_->Wait();
    }
  }

  // A member of group `name`: rank 0 leads.
  std::unique_ptr<Subprocess> Member(const std::string& name, int rank) {
    return std::make_unique<Subprocess>(
        std::vector<std::string>{
            REELFARM_BINARY,   "node",
            "--coordinator",   address_,
            "--token-file",    token_,
            "--devices",       "cpu",
            "--group",         name,
            "--group-rank",    std::to_string(rank),
            "--group-size",    "2",
            "--group-bind",    "127.0.0.1",
            "--group-timeout", "60",
            "--node-id",       name + "-" + std::to_string(rank)},
        /*merge_stderr=*/true);
  }

  // Submits `sweep` and returns once it has finished.
  void SubmitAndWatch(const fs::path& sweep, const fs::path& out,
                      const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {REELFARM_BINARY, "submit",  sweep.string(),
                                     "--coordinator", address_,  "--out",
                                     out.string(),    "--watch", "--token-file",
                                     token_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Subprocess submit(argv, /*merge_stderr=*/true);
    const std::string output = submit.ReadAll();
    ASSERT_EQ(submit.Wait(), 0) << output;
  }

  fs::path dir_;
  std::string token_;
  std::string address_;
  std::unique_ptr<Subprocess> coordinator_;
};

TEST_F(ProcessGroupTest, TwoProcessesRenderOneVideoAsOneDeviceWould) {
  std::ofstream(dir_ / "sweep.yaml")
      << testing_tiny::TinySweep(24, {"devices_per_video: 2"});
  const std::vector<std::string> models = testing_tiny::TinyModelFlags(dir_);

  // The follower first: it waits for the leader to post its address.
  auto follower = Member("g1", 1);
  auto leader = Member("g1", 0);
  SubmitAndWatch(dir_ / "sweep.yaml", dir_ / "group", models);
  leader->Signal(SIGTERM);
  EXPECT_EQ(leader->Wait(), 0) << leader->ReadAll();
  // The leader's stop reaches the follower, which leaves on its own.
  const std::string follower_log = follower->ReadAll();
  EXPECT_EQ(follower->Wait(), 0) << follower_log;
  EXPECT_NE(follower_log.find("rendered 1 job(s) with the group"),
            std::string::npos)
      << follower_log;

  std::vector<std::string> run = {REELFARM_BINARY,
                                  "run",
                                  (dir_ / "sweep.yaml").string(),
                                  "--out",
                                  (dir_ / "one").string(),
                                  "--devices",
                                  "cpu"};
  run.insert(run.end(), models.begin(), models.end());
  Subprocess one(run, /*merge_stderr=*/true);
  const std::string one_log = one.ReadAll();
  ASSERT_EQ(one.Wait(), 0) << one_log;

  const nlohmann::json group_job = Manifest(dir_ / "group")["jobs"][0];
  const nlohmann::json one_job = Manifest(dir_ / "one")["jobs"][0];
  EXPECT_EQ(group_job["status"], "done");
  EXPECT_EQ(group_job["node"], "g1-0");
  ASSERT_EQ(group_job["devices"].size(), 2u) << group_job.dump();
  EXPECT_NE(group_job["devices"][1].get<std::string>().find("/cpu"),
            std::string::npos);
  const int worst = testing_tiny::WorstFrameDifference(
      dir_ / "group", group_job, dir_ / "one", one_job);
  RecordProperty("worst_level_difference", worst);
  EXPECT_LE(worst, 1) << "largest difference, in 8-bit levels";
}

TEST_F(ProcessGroupTest, ALostFollowerHandsTheJobBackAndNothingIsLost) {
  std::ofstream(dir_ / "sweep.yaml") << R"(name: group
renderer: {name: test-pattern, ms_per_job: 1500}
defaults: {W: 16, H: 16, L: 2, steps: 1, guidance_scale: 7.5,
           devices_per_video: 2}
grid:
  prompt: [a red fox, a blue whale]
)";
  auto follower = Member("g2", 1);
  auto leader = Member("g2", 0);
  Subprocess submit({REELFARM_BINARY, "submit", (dir_ / "sweep.yaml").string(),
                     "--coordinator", address_, "--out",
                     (dir_ / "out").string(), "--watch", "--token-file",
                     token_});
  // Killed as it renders its first job with the leader.
  for (std::string line = follower->ReadLine();
       line.find("rendering job") == std::string::npos;
       line = follower->ReadLine()) {
    ASSERT_FALSE(line.empty()) << "the follower exited before any job";
  }
  follower->Signal(SIGKILL);
  follower->Wait();
  const std::string leader_log = leader->ReadAll();
  EXPECT_EQ(leader->Wait(), 1) << leader_log;
  EXPECT_NE(leader_log.find("lost a member"), std::string::npos) << leader_log;

  // A plain node finishes the sweep: both jobs done, each once.
  Subprocess node({REELFARM_BINARY, "node", "--coordinator", address_,
                   "--token-file", token_, "--devices", "cpu", "--node-id",
                   "plain"});
  ASSERT_EQ(submit.Wait(), 0) << submit.ReadAll();
  node.Signal(SIGTERM);
  EXPECT_EQ(node.Wait(), 0);
  const nlohmann::json manifest = Manifest(dir_ / "out");
  ASSERT_EQ(manifest["jobs"].size(), 2u);
  std::set<std::string> ids;
  for (const auto& job : manifest["jobs"]) {
    EXPECT_EQ(job["status"], "done") << job.dump();
    EXPECT_TRUE(ids.insert(job["id"].get<std::string>()).second);
  }
}

TEST_F(ProcessGroupTest, MembersWaitingForTheirGroupLeaveOnASignal) {
  // Neither group ever forms: rank 1 of 2 waits for a leader, a leader for
  // its follower. Both hold no work and leave at once.
  auto follower = Member("g3", 1);
  auto leader = Member("g4", 0);
  for (Subprocess* member : {follower.get(), leader.get()}) {
    for (std::string line = member->ReadLine();
         line.find("process group") == std::string::npos;
         line = member->ReadLine()) {
      ASSERT_FALSE(line.empty()) << "the member exited early";
    }
    member->Signal(SIGTERM);
    EXPECT_EQ(member->Wait(), 0);
  }
}

}  // namespace
}  // namespace reelfarm
