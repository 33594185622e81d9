// Never losing work, with real processes and real files: outputs that go
// missing or bad are rendered again, finished jobs are not, nodes with a
// full or read-only disk hand their jobs to a healthy node, and a draining
// node finishes or hands back its job.

#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/sha256.h"
#include "nlohmann/json.hpp"
#include "reelfarm/v1/coordinator.grpc.pb.h"
#include "tests/integration/subprocess.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;
using testing_process::Subprocess;

const char* const kBinary = REELFARM_BINARY;

std::string Sweep(int prompts, int seeds, int ms_per_job) {
  std::string prompt_list;
  for (int i = 0; i < prompts; ++i) {
    prompt_list += (i ? ", " : "") + std::string("prompt ") + char('a' + i);
  }
  return "name: durable\n"
         "output: out\n"
         "formats: [frames]\n"
         "renderer: {name: test-pattern, ms_per_job: " +
         std::to_string(ms_per_job) +
         "}\n"
         "defaults: {W: 16, H: 16, L: 2, steps: 1, guidance_scale: 7.5}\n"
         "grid:\n"
         "  prompt: [" +
         prompt_list +
         "]\n"
         "  seed: {range: [0, " +
         std::to_string(seeds) + "]}\n";
}

class DurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::path(::testing::TempDir()) /
        ("durability-" +
         std::string(
             ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::string WriteSweep(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  nlohmann::json Manifest() {
    std::ifstream in(dir_ / "out" / "manifest.json");
    EXPECT_TRUE(in.good());
    return nlohmann::json::parse(in);
  }

  // Every job done, once, with every file present and matching its sha256.
  void ExpectIntact(const nlohmann::json& manifest, size_t jobs) {
    ASSERT_EQ(manifest["jobs"].size(), jobs);
    std::set<std::string> ids;
    for (const auto& job : manifest["jobs"]) {
      EXPECT_EQ(job["status"], "done") << job.dump();
      EXPECT_TRUE(ids.insert(job["id"].get<std::string>()).second);
      ASSERT_FALSE(job["files"].empty());
      for (const auto& f : job["files"]) {
        const fs::path path = dir_ / "out" / f["path"].get<std::string>();
        auto sha = Sha256FileHex(path.string());
        ASSERT_TRUE(sha.ok()) << sha.status();
        EXPECT_EQ(*sha, f["sha256"].get<std::string>()) << path;
      }
    }
  }

  // Starts a coordinator on an OS-chosen port; returns its address.
  std::string StartCoordinator(std::unique_ptr<Subprocess>* coordinator,
                               std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {kBinary,
                                     "coordinator",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--insecure",
                                     "--state-dir",
                                     (dir_ / "state").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    *coordinator = std::make_unique<Subprocess>(argv, /*merge_stderr=*/true);
    for (std::string line; !(line = (*coordinator)->ReadLine()).empty();) {
      if (absl::StartsWith(line, "listening on ")) {
        return line.substr(strlen("listening on "));
      }
    }
    ADD_FAILURE() << "the coordinator did not start";
    return "";
  }

  std::string Submit(const std::string& address, const std::string& sweep) {
    Subprocess submit({kBinary, "submit", sweep, "--coordinator", address,
                       "--out", (dir_ / "out").string()});
    const std::string id = submit.ReadLine();
    EXPECT_EQ(submit.Wait(), 0);
    return id;
  }

  fs::path dir_;
};

TEST_F(DurabilityTest, RunAgainRendersLostOutputsAndNothingElse) {
  const std::string sweep = WriteSweep("sweep.yaml", Sweep(2, 3, 1));
  const std::string out = (dir_ / "out").string();
  {
    Subprocess run({kBinary, "run", sweep, "--out", out});
    run.ReadAll();
    ASSERT_EQ(run.Wait(), 0);
  }
  nlohmann::json first = Manifest();
  ExpectIntact(first, 6);
  // One job loses a frame; another's frame is overwritten with the same
  // number of different bytes.
  const std::string lost = first["jobs"][0]["files"][0]["path"];
  const std::string bad = first["jobs"][1]["files"][0]["path"];
  fs::remove(dir_ / "out" / lost);
  const auto size = fs::file_size(dir_ / "out" / bad);
  std::ofstream(dir_ / "out" / bad, std::ios::binary | std::ios::trunc)
      << std::string(size, 'x');

  Subprocess again({kBinary, "run", sweep, "--out", out});
  const std::string said = again.ReadAll();
  ASSERT_EQ(again.Wait(), 0) << said;
  EXPECT_TRUE(absl::StrContains(said, "6 jobs, 4 already done")) << said;
  EXPECT_TRUE(absl::StrContains(said, "2 queued again")) << said;
  nlohmann::json second = Manifest();
  ExpectIntact(second, 6);
  // The damaged folders were set aside, not deleted.
  int discarded = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "out" / ".discarded")) {
    (void)e;
    ++discarded;
  }
  EXPECT_EQ(discarded, 2);

  // A bigger sweep into the same folder renders only the new points.
  const std::string bigger = WriteSweep("bigger.yaml", Sweep(2, 5, 1));
  Subprocess more({kBinary, "run", bigger, "--out", out});
  const std::string more_said = more.ReadAll();
  ASSERT_EQ(more.Wait(), 0) << more_said;
  EXPECT_TRUE(
      absl::StrContains(more_said, "10 jobs, 6 already done (6 from earlier"))
      << more_said;
  nlohmann::json third = Manifest();
  ExpectIntact(third, 10);
  int reused = 0;
  for (const auto& job : third["jobs"]) reused += job.contains("reused_from");
  EXPECT_EQ(reused, 6);
}

// Runs `argv` with the sweep's output folder replaced, for this process
// only, by a one-page tmpfs that a filler file has already filled (`full`)
// or by a read-only view of it (`readonly`): a user and mount namespace
// needs no privileges.
std::vector<std::string> InBadDisk(const std::string& kind,
                                   const std::string& out,
                                   std::vector<std::string> argv) {
  const std::string setup =
      kind == "full"
          ? "mount -t tmpfs -o size=4k tmpfs \"$0\" && "
            "head -c 4096 /dev/zero > \"$0/.filler\""
          : "mount --bind \"$0\" \"$0\" && mount -o remount,ro,bind \"$0\"";
  std::vector<std::string> wrapped = {
      "unshare", "-rm", "sh", "-c", setup + " && exec \"$@\"", out};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

bool NamespacesWork() {
  return std::system("unshare -rm true >/dev/null 2>&1") == 0;
}

TEST_F(DurabilityTest, NodesWithABadDiskHandTheirJobsToAHealthyNode) {
  if (!NamespacesWork()) {
    if (std::getenv("REELFARM_SKIP_NAMESPACE_TESTS") != nullptr) {
      GTEST_SKIP() << "user namespaces are not available";
    }
    FAIL() << "`unshare -rm` does not work here; set "
              "REELFARM_SKIP_NAMESPACE_TESTS=1 to skip this test";
  }
  const std::string out = (dir_ / "out").string();
  fs::create_directories(out);
  std::unique_ptr<Subprocess> coordinator;
  const std::string address = StartCoordinator(
      &coordinator, {"--quarantine-after", "2", "--max-attempts", "8"});
  ASSERT_FALSE(address.empty());
  const std::string sweep = WriteSweep("sweep.yaml", Sweep(2, 3, 1));
  const std::string sweep_id = Submit(address, sweep);

  std::map<std::string, std::unique_ptr<Subprocess>> bad;
  for (const std::string kind : {"full", "readonly"}) {
    bad[kind] = std::make_unique<Subprocess>(
        InBadDisk(kind, out,
                  {kBinary, "node", "--coordinator", address, "--devices",
                   "cpu", "--node-id", kind}),
        /*merge_stderr=*/true);
  }
  // Each bad node fails twice in a row and is quarantined; until then no
  // other node exists, so they are the ones trying.
  int quarantined = 0;
  for (std::string line;
       quarantined < 2 && !(line = coordinator->ReadLine()).empty();) {
    if (absl::StrContains(line, "jobs in a row")) ++quarantined;
  }
  ASSERT_EQ(quarantined, 2);

  Subprocess good({kBinary, "node", "--coordinator", address, "--devices",
                   "cpu", "--node-id", "good"});
  Subprocess watch({kBinary, "watch", sweep_id, "--coordinator", address});
  watch.ReadAll();
  EXPECT_EQ(watch.Wait(), 0);

  std::map<std::string, std::string> said;
  for (auto& [kind, node] : bad) {
    node->Signal(SIGTERM);
    said[kind] = node->ReadAll();
    EXPECT_EQ(node->Wait(), 0) << said[kind];
  }
  good.Signal(SIGTERM);
  EXPECT_EQ(good.Wait(), 0);
  coordinator->Signal(SIGTERM);
  EXPECT_EQ(coordinator->Wait(), 0);

  // The errors say what happened and where.
  EXPECT_TRUE(absl::StrContains(said["full"], "No space left on device"))
      << said["full"];
  EXPECT_TRUE(absl::StrContains(said["full"], out)) << said["full"];
  EXPECT_TRUE(absl::StrContains(said["readonly"], "Read-only file system"))
      << said["readonly"];
  nlohmann::json manifest = Manifest();
  ExpectIntact(manifest, 6);
  for (const auto& job : manifest["jobs"]) EXPECT_EQ(job["node"], "good");
}

TEST_F(DurabilityTest, CoordinatorOnACorruptedStateSaysSoAndStops) {
  fs::create_directories(dir_ / "state");
  std::ofstream(dir_ / "state" / "coordinator.db", std::ios::binary)
      << std::string(8192, 'z');
  Subprocess coordinator(
      {kBinary, "coordinator", "--listen", "127.0.0.1:0", "--insecure",
       "--state-dir", (dir_ / "state").string()},
      /*merge_stderr=*/true);
  const std::string said = coordinator.ReadAll();
  EXPECT_EQ(coordinator.Wait(), 1) << said;
  EXPECT_TRUE(absl::StrContains(said, "coordinator.db")) << said;
  EXPECT_FALSE(absl::StrContains(said, "listening")) << said;
}

// The sweep's counts, read over gRPC.
v1::SweepCounts Counts(v1::Coordinator::Stub& stub, const std::string& id) {
  v1::GetSweepRequest request;
  request.set_sweep_id(id);
  v1::GetSweepResponse response;
  grpc::ClientContext ctx;
  stub.GetSweep(&ctx, request, &response);
  return response.sweep().counts();
}

// Blocks until the node holds a job (a real condition: the coordinator says
// so), with a deadline.
bool WaitUntilLeased(v1::Coordinator::Stub& stub, const std::string& id) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (Counts(stub, id).leased() > 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling
  }
  return false;
}

TEST_F(DurabilityTest, DrainingNodeFinishesItsJobWithinTheDeadline) {
  std::unique_ptr<Subprocess> coordinator;
  const std::string address = StartCoordinator(&coordinator);
  auto stub = v1::Coordinator::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  const std::string id =
      Submit(address, WriteSweep("sweep.yaml", Sweep(1, 3, 800)));
  Subprocess node({kBinary, "node", "--coordinator", address, "--devices",
                   "cpu", "--drain-timeout", "30"},
                  /*merge_stderr=*/true);
  ASSERT_TRUE(WaitUntilLeased(*stub, id));
  node.Signal(SIGTERM);
  const std::string said = node.ReadAll();
  EXPECT_EQ(node.Wait(), 0) << said;
  const v1::SweepCounts c = Counts(*stub, id);
  EXPECT_EQ(c.done(), 1u) << said;  // the job in hand, and no other
  EXPECT_EQ(c.pending(), 2u);
  EXPECT_EQ(c.leased(), 0u);
  coordinator->Signal(SIGTERM);
  EXPECT_EQ(coordinator->Wait(), 0);
}

TEST_F(DurabilityTest, DrainingNodeHandsBackWhatItCannotFinish) {
  std::unique_ptr<Subprocess> coordinator;
  const std::string address = StartCoordinator(&coordinator);
  auto stub = v1::Coordinator::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  const std::string id =
      Submit(address, WriteSweep("sweep.yaml", Sweep(1, 2, 60000)));
  Subprocess node({kBinary, "node", "--coordinator", address, "--devices",
                   "cpu", "--drain-timeout", "0.2"},
                  /*merge_stderr=*/true);
  ASSERT_TRUE(WaitUntilLeased(*stub, id));
  const absl::Time signalled = absl::Now();
  node.Signal(SIGTERM);
  const std::string said = node.ReadAll();
  EXPECT_EQ(node.Wait(), 0) << said;
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(20)) << said;
  const v1::SweepCounts c = Counts(*stub, id);
  EXPECT_EQ(c.done(), 0u);
  EXPECT_EQ(c.pending(), 2u) << said;  // handed back, ready for others
  EXPECT_TRUE(absl::StrContains(said, "drain timeout")) << said;

  v1::GetSweepRequest request;
  request.set_sweep_id(id);
  request.set_include_jobs(true);
  v1::GetSweepResponse response;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub->GetSweep(&ctx, request, &response).ok());
  for (const v1::JobStatus& j : response.jobs()) {
    EXPECT_EQ(j.attempts(), 0u);  // handing back is not a failed try
  }
  coordinator->Signal(SIGTERM);
  EXPECT_EQ(coordinator->Wait(), 0);
}

}  // namespace
}  // namespace reelfarm
