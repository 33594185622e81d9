// A real SLURM cluster on this machine (slurmctld, munged and one slurmd per
// emulated node, fake GPUs through GRES; ../shared/slurm-local), and sweeps
// rendered through the script `reelfarm slurm` writes: once straight
// through, once requeued halfway.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/sha256.h"
#include "nlohmann/json.hpp"
#include "tests/integration/subprocess.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing_process::Subprocess;
using Clock = std::chrono::steady_clock;

// Runs a bash command line; returns its exit code and fills `out` with its
// stdout and stderr.
int Shell(const std::string& command, std::string* out = nullptr) {
  Subprocess p({"/bin/bash", "-c", command}, /*merge_stderr=*/true);
  std::string text = p.ReadAll();
  if (out != nullptr) *out = std::move(text);
  return p.Wait();
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string SlurmLocalDir() {
  const char* env = std::getenv("REELFARM_SLURM_LOCAL");
  return env != nullptr ? env : REELFARM_SLURM_LOCAL_DIR;
}

// Polls `done` every 100 ms until it holds or `timeout` passes.
template <typename Fn>
bool WaitUntil(std::chrono::seconds timeout, Fn done) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

class SlurmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat("reelfarm_slurm_test_", ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    cluster_ = (dir_ / "cluster").string();
    // Ports of their own, so a cluster left behind elsewhere cannot answer.
    const int port = 21000 + (::getpid() % 400) * 20;
    std::string log;
    const int rc =
        Shell(absl::StrCat("SLURM_LOCAL_NODES=3 SLURM_LOCAL_GPUS=2 "
                           "SLURM_LOCAL_CRED_EXPIRE=5 SLURM_LOCAL_PORT_BASE=",
                           port, " ", Quote(SlurmLocalDir() + "/start.sh"), " ",
                           Quote(cluster_)),
              &log);
    if (rc != 0) {
      const char* skip = std::getenv("REELFARM_SKIP_SLURM_TESTS");
      if (skip != nullptr && std::string(skip) == "1") {
        GTEST_SKIP() << "SLURM did not start (REELFARM_SKIP_SLURM_TESTS=1):\n"
                     << log;
      }
      FAIL() << "could not start a local SLURM cluster with " << SlurmLocalDir()
             << "/start.sh (exit " << rc
             << "); set REELFARM_SKIP_SLURM_TESTS=1 to skip:\n"
             << log;
    }
    started_ = true;
    ::setenv("SLURM_CONF", (fs::path(cluster_) / "etc/slurm.conf").c_str(), 1);
  }

  void TearDown() override {
    if (!started_) return;
    std::string log;
    if (HasFailure()) {
      Shell(absl::StrCat("tail -n 40 ", Quote((dir_ / "job.out").string())),
            &log);
      std::cerr << "job log:\n" << log;
    }
    Shell(
        absl::StrCat(Quote(SlurmLocalDir() + "/stop.sh"), " ", Quote(cluster_)),
        &log);
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // A sweep of `prompts` x `seeds` test-pattern jobs, frames only.
  std::string WriteSweep(int prompts, int seeds, int ms_per_job) {
    std::ostringstream prompt_list;
    for (int i = 0; i < prompts; ++i) {
      prompt_list << (i ? ", " : "") << "prompt " << i;
    }
    const fs::path path = dir_ / "sweep's file.yaml";  // a quote to survive
    std::ofstream(path) << "name: slurm\n"
                        << "renderer: {name: test-pattern, ms_per_job: "
                        << ms_per_job << "}\n"
                        << "formats: [frames]\n"
                        << "defaults: {W: 16, H: 16, L: 2, steps: 2, guidance_scale: 7}\n"
                        << "grid:\n"
                        << "  prompt: [" << prompt_list.str() << "]\n"
                        << "  seed: {range: [0, " << seeds << "]}\n";
    return path.string();
  }

  // `reelfarm slurm ... --submit`; returns the job id.
  std::string Submit(const std::string& sweep, bool requeue) {
    std::string out;
    const int rc = Shell(
        absl::StrCat(Quote(REELFARM_BINARY), " slurm ", Quote(sweep),
                     " --submit --nodes 2 --gpus-per-node 2 --time 10",
                     " --job-name rf-test --drain-timeout 5",
                     requeue ? " --requeue" : "", " --state-dir ",
                     Quote((dir_ / "state").string()), " --out ",
                     Quote((dir_ / "out").string()), " --output ",
                     Quote((dir_ / "job.out").string()), " --script ",
                     Quote((dir_ / "job.sbatch").string()), " --sbatch-line ",
                     Quote(absl::StrCat("--chdir=", dir_.string()))),
        &out);
    EXPECT_EQ(rc, 0) << out;
    std::string id(absl::StripAsciiWhitespace(
        out.substr(out.rfind("\n", out.size() - 2) + 1)));
    return id;
  }

  // `scontrol show job` fields, e.g. JobState and Restarts.
  std::map<std::string, std::string> JobFields(const std::string& id) {
    std::string out;
    Shell(absl::StrCat("scontrol show job -o ", id), &out);
    std::map<std::string, std::string> fields;
    std::istringstream in(out);
    std::string word;
    while (in >> word) {
      const size_t eq = word.find('=');
      if (eq != std::string::npos)
        fields[word.substr(0, eq)] = word.substr(eq + 1);
    }
    return fields;
  }

  json Manifest() {
    std::ifstream in(dir_ / "out" / "manifest.json");
    if (!in) return json();
    json doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
    return doc.is_discarded() ? json() : doc;
  }

  static int DoneCount(const json& manifest) {
    int n = 0;
    if (!manifest.contains("jobs")) return 0;
    for (const json& j : manifest["jobs"]) n += j["status"] == "done";
    return n;
  }

  // Every job done once, its files where the manifest says with the sha256
  // it says, and its SLURM provenance from job `id`.
  void CheckManifest(const json& m, size_t jobs, const std::string& id) {
    ASSERT_EQ(m["jobs"].size(), jobs);
    EXPECT_EQ(m["sweep"]["state"], "done");
    std::set<std::string> ids, folders;
    for (const json& j : m["jobs"]) {
      SCOPED_TRACE(j.dump());
      EXPECT_EQ(j["status"], "done");
      EXPECT_TRUE(ids.insert(j["id"].get<std::string>()).second);
      folders.insert(j["output"].get<std::string>());
      ASSERT_EQ(j["files"].size(), 2u);  // L: 2 frames
      for (const json& f : j["files"]) {
        absl::StatusOr<std::string> sha = Sha256FileHex(
            (dir_ / "out" / f["path"].get<std::string>()).string());
        ASSERT_TRUE(sha.ok()) << sha.status();
        EXPECT_EQ(*sha, f["sha256"]);
      }
      ASSERT_TRUE(j.contains("slurm"));
      EXPECT_EQ(j["slurm"]["job_id"], id);
      const std::string node = j["slurm"]["node_name"];
      EXPECT_TRUE(node == "n1" || node == "n2" || node == "n3") << node;
    }
    // One folder per job and nothing else published.
    size_t published = 0;
    for (const auto& e : fs::directory_iterator(dir_ / "out")) {
      if (e.is_directory() && folders.count(e.path().filename().string())) {
        ++published;
      }
    }
    EXPECT_EQ(published, jobs);
  }

  fs::path dir_;
  std::string cluster_;
  bool started_ = false;
};

TEST_F(SlurmTest, SweepRendersThroughTheSbatchScript) {
  const std::string sweep = WriteSweep(4, 6, 150);  // 24 jobs
  const std::string id = Submit(sweep, /*requeue=*/false);
  ASSERT_FALSE(id.empty());
  std::map<std::string, std::string> job;
  ASSERT_TRUE(WaitUntil(std::chrono::seconds(60), [&] {
    job = JobFields(id);
    const std::string& s = job["JobState"];
    return !s.empty() && s != "PENDING" && s != "RUNNING" &&
           s != "CONFIGURING" && s != "COMPLETING";
  }));
  ASSERT_EQ(job["JobState"], "COMPLETED") << job["ExitCode"];
  const json m = Manifest();
  CheckManifest(m, 24, id);
  std::set<std::string> nodes;
  std::set<int> lanes;
  for (const json& j : m["jobs"]) {
    nodes.insert(j["slurm"]["node_name"].get<std::string>());
    lanes.insert(j["lane"].get<int>());
    EXPECT_EQ(j["slurm"]["restart_count"], 0);
    EXPECT_FALSE(j["slurm"].contains("array_task_id"));
  }
  // Both nodes of the allocation worked, each with a lane per GRES GPU.
  EXPECT_EQ(nodes.size(), 2u);
  EXPECT_EQ(lanes, (std::set<int>{0, 1}));
}

TEST_F(SlurmTest, RequeuedJobResumesWithoutRenderingAgain) {
  const std::string sweep = WriteSweep(6, 8, 400);  // 48 jobs, ~5 s on 4 lanes
  const std::string id = Submit(sweep, /*requeue=*/true);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitUntil(std::chrono::seconds(60),
                        [&] { return DoneCount(Manifest()) >= 8; }));
  std::string out;
  ASSERT_EQ(Shell(absl::StrCat("scontrol requeue ", id), &out), 0) << out;
  // The first run is over once the job waits to start again.
  ASSERT_TRUE(WaitUntil(std::chrono::seconds(30), [&] {
    std::map<std::string, std::string> job = JobFields(id);
    return job["JobState"] == "PENDING" || job["Restarts"] == "1";
  }));
  const json first = Manifest();
  const int done_first = DoneCount(first);
  ASSERT_LT(done_first, 48) << "the requeue came after the sweep finished";
  std::map<std::string, json> first_results;
  for (const json& j : first["jobs"]) {
    if (j["status"] == "done") first_results[j["id"]] = j;
  }

  std::map<std::string, std::string> job;
  ASSERT_TRUE(WaitUntil(std::chrono::seconds(90), [&] {
    job = JobFields(id);
    return job["JobState"] == "COMPLETED" || job["JobState"] == "FAILED" ||
           job["JobState"] == "CANCELLED" || job["JobState"] == "TIMEOUT";
  }));
  ASSERT_EQ(job["JobState"], "COMPLETED");
  EXPECT_EQ(job["Restarts"], "1");
  const json m = Manifest();
  CheckManifest(m, 48, id);
  int resumed = 0;
  for (const json& j : m["jobs"]) {
    SCOPED_TRACE(j.dump());
    auto it = first_results.find(j["id"]);
    if (it != first_results.end()) {
      // Done before the requeue: kept, not rendered again.
      EXPECT_EQ(j["slurm"]["restart_count"], 0);
      EXPECT_EQ(j["timings"], it->second["timings"]);
      EXPECT_EQ(j["files"], it->second["files"]);
    } else {
      EXPECT_EQ(j["slurm"]["restart_count"], 1);
      ++resumed;
    }
  }
  EXPECT_EQ(resumed, 48 - done_first);
  EXPECT_GT(resumed, 0);
  // The log holds both runs.
  std::ifstream log(dir_ / "job.out");
  std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_NE(text.find("(restart 0)"), std::string::npos) << text;
  EXPECT_NE(text.find("(restart 1)"), std::string::npos) << text;
}

}  // namespace
}  // namespace reelfarm
