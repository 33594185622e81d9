// A real SLURM cluster on this machine (slurmctld, munged and one slurmd per
// emulated node, fake GPUs through GRES; ../shared/slurm-local), and sweeps
// rendered through the scripts `reelfarm slurm` writes: once straight
// through, once requeued halfway, and once by a job array of workers that
// join a coordinator running outside SLURM.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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
    if (coordinator_ != nullptr) {
      coordinator_->Signal(SIGTERM);
      coordinator_->Wait();
    }
    if (!started_) return;
    std::string log;
    if (HasFailure()) {
      Shell(
          absl::StrCat(
              "cd ", Quote(dir_.string()),
              " && tail -n 40 job.out workers-*.out coordinator.log client.err",
              " 2>/dev/null"),
          &log);
      std::cerr << "job logs:\n" << log;
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
    std::ofstream(path)
        << "name: slurm\n"
        << "renderer: {name: test-pattern, ms_per_job: " << ms_per_job << "}\n"
        << "formats: [frames]\n"
        << "defaults: {W: 16, H: 16, L: 2, steps: 2, guidance_scale: 7}\n"
        << "grid:\n"
        << "  prompt: [" << prompt_list.str() << "]\n"
        << "  seed: {range: [0, " << seeds << "]}\n";
    return path.string();
  }

  // `reelfarm slurm ... --submit`; returns the job id.
  std::string Submit(const std::string& sweep, bool requeue,
                     const std::string& extra_flags = "") {
    std::string out;
    const int rc = Shell(
        absl::StrCat(Quote(REELFARM_BINARY), " slurm ", Quote(sweep),
                     " --submit --nodes 2 --gpus-per-node 2 --time 10",
                     " --job-name rf-test --drain-timeout 5",
                     requeue ? " --requeue" : "", extra_flags, " --state-dir ",
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

  // `scontrol show job` fields once job `id` has ended (or a minute has
  // passed).
  std::map<std::string, std::string> WaitForJobEnd(const std::string& id) {
    std::map<std::string, std::string> job;
    WaitUntil(std::chrono::seconds(60), [&] {
      job = JobFields(id);
      const std::string& s = job["JobState"];
      return !s.empty() && s != "PENDING" && s != "RUNNING" &&
             s != "CONFIGURING" && s != "COMPLETING";
    });
    job.emplace("JobState", "");
    job.emplace("ExitCode", "");
    return job;
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
  // it says, and its SLURM provenance from job `id` (`id_field`: job_id, or
  // array_job_id for the tasks of a job array).
  void CheckManifest(const json& m, size_t jobs, const std::string& id,
                     const char* id_field = "job_id") {
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
      EXPECT_EQ(j["slurm"][id_field], id);
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

  // `PREFIX reelfarm ARGS... --coordinator ... --token-file ...`; returns
  // its exit code, `out` gets its stdout (its stderr goes to client.err).
  int Client(const std::string& args, std::string* out,
             const std::string& prefix = "") {
    return Shell(absl::StrCat(prefix, Quote(REELFARM_BINARY), " ", args,
                              " --coordinator ", coordinator_address_,
                              " --token-file ", Quote(token_file_), " 2>>",
                              Quote((dir_ / "client.err").string())),
                 out);
  }

  // `reelfarm coordinator` as a plain process of this machine, outside
  // SLURM, on 127.0.0.1 (which every emulated node reaches); returns once
  // it listens.
  void StartCoordinator() {
    token_file_ = (dir_ / "token").string();
    std::ofstream(token_file_) << "slurm-workers-test-token\n";
    fs::permissions(token_file_, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
    const fs::path address_file = dir_ / "coordinator.address";
    coordinator_ = std::make_unique<Subprocess>(std::vector<std::string>{
        "/bin/bash", "-c",
        absl::StrCat("exec ", Quote(REELFARM_BINARY),
                     " coordinator --listen 127.0.0.1:0 --address-file ",
                     Quote(address_file.string()), " --state-dir ",
                     Quote((dir_ / "state").string()), " --token-file ",
                     Quote(token_file_), " >",
                     Quote((dir_ / "coordinator.log").string()), " 2>&1")});
    ASSERT_TRUE(WaitUntil(std::chrono::seconds(20), [&] {
      std::ifstream in(address_file);
      std::string line;
      return std::getline(in, line) && !line.empty();
    })) << "the coordinator wrote no address";
    std::ifstream in(address_file);
    std::getline(in, coordinator_address_);
  }

  fs::path dir_;
  std::string cluster_;
  bool started_ = false;
  std::unique_ptr<Subprocess> coordinator_;
  std::string coordinator_address_;
  std::string token_file_;
};

TEST_F(SlurmTest, SweepRendersThroughTheSbatchScript) {
  const std::string sweep = WriteSweep(4, 6, 150);  // 24 jobs
  const std::string id = Submit(sweep, /*requeue=*/false);
  ASSERT_FALSE(id.empty());
  const std::map<std::string, std::string> job = WaitForJobEnd(id);
  ASSERT_EQ(job.at("JobState"), "COMPLETED") << job.at("ExitCode");
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

// `--process-group`: a member per GPU, four over two nodes, one group. The
// leader leases every job and renders it with all four; nothing is
// rendered twice.
TEST_F(SlurmTest, ProcessGroupRendersEveryVideoOnEveryGpu) {
  const std::string sweep = WriteSweep(2, 4, 150);  // 8 jobs
  const std::string id = Submit(sweep, /*requeue=*/false, " --process-group");
  ASSERT_FALSE(id.empty());
  const std::map<std::string, std::string> job = WaitForJobEnd(id);
  ASSERT_EQ(job.at("JobState"), "COMPLETED") << job.at("ExitCode");
  const json m = Manifest();
  CheckManifest(m, 8, id);
  std::set<std::string> leaders;
  for (const json& j : m["jobs"]) {
    ASSERT_EQ(j["devices"].size(), 4u) << j.dump();
    leaders.insert(j["node"].get<std::string>());
  }
  EXPECT_EQ(leaders.size(), 1u);  // only the leader leases
  std::string log;
  Shell(absl::StrCat("cat ", Quote((dir_ / "job.out").string())), &log);
  EXPECT_NE(log.find(absl::StrCat("process group slurm-", id)),
            std::string::npos)
      << log;
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
  // SLURM stops the coordinator and the workers together; the coordinator
  // keeps recording the results of jobs its draining workers finish (its
  // --shutdown-grace), and a job published as the processes died is found
  // by the second run with the first run's result. Either way such a job
  // keeps restart 0 without being rendered twice (CheckManifest: one
  // folder per job).

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
  int resumed = 0, unreported = 0;
  for (const json& j : m["jobs"]) {
    SCOPED_TRACE(j.dump());
    auto it = first_results.find(j["id"]);
    if (it != first_results.end()) {
      // Done before the requeue: kept, not rendered again.
      EXPECT_EQ(j["slurm"]["restart_count"], 0);
      EXPECT_EQ(j["timings"], it->second["timings"]);
      EXPECT_EQ(j["files"], it->second["files"]);
    } else if (j["slurm"]["restart_count"] == 0) {
      ++unreported;  // finished by the first run as it stopped
    } else {
      EXPECT_EQ(j["slurm"]["restart_count"], 1);
      ++resumed;
    }
  }
  EXPECT_EQ(resumed + unreported, 48 - done_first);
  EXPECT_GT(resumed, 0);
  // The log holds both runs.
  std::ifstream log(dir_ / "job.out");
  std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_NE(text.find("(restart 0)"), std::string::npos) << text;
  EXPECT_NE(text.find("(restart 1)"), std::string::npos) << text;
}

TEST_F(SlurmTest, WorkerArrayJoinsACoordinatorOutsideSlurm) {
  ASSERT_NO_FATAL_FAILURE(StartCoordinator());
  const std::string sweep = WriteSweep(4, 6, 500);  // 24 jobs, ~2 s on 6 lanes
  std::string out;
  ASSERT_EQ(Client(absl::StrCat("submit ", Quote(sweep), " --out ",
                                Quote((dir_ / "out").string())),
                   &out),
            0)
      << out;
  const std::string sweep_id(
      absl::StripAsciiWhitespace(out.substr(0, out.find('\n'))));
  ASSERT_FALSE(sweep_id.empty()) << out;

  // Three 1-node tasks of 2 GPUs each: one task per node.
  ASSERT_EQ(
      Shell(absl::StrCat(
                Quote(REELFARM_BINARY), " slurm --workers-only --coordinator ",
                coordinator_address_, " --token-file ", Quote(token_file_),
                " --array 3 --gpus-per-node 2 --idle-exit 2 --time 10",
                " --job-name rf-workers --drain-timeout 5 --output ",
                Quote((dir_ / "workers-%a.out").string()), " --script ",
                Quote((dir_ / "workers.sbatch").string()), " --sbatch-line ",
                Quote(absl::StrCat("--chdir=", dir_.string())), " --submit"),
            &out),
      0)
      << out;
  const std::string id(absl::StripAsciiWhitespace(
      out.substr(out.rfind("\n", out.size() - 2) + 1)));
  ASSERT_FALSE(id.empty()) << out;

  // `timeout` bounds the watch: a sweep that never finishes fails here.
  std::string watched;
  ASSERT_EQ(
      Shell(absl::StrCat("timeout 60 ", Quote(REELFARM_BINARY), " watch ",
                         sweep_id, " --coordinator ", coordinator_address_,
                         " --token-file ", Quote(token_file_)),
            &watched),
      0)
      << watched;

  // With no work left the workers exit on their own and every task of the
  // array leaves the queue, completed.
  std::map<std::string, std::string> task_states;
  const auto all_tasks_over = [&] {
    std::string text;
    if (Shell(absl::StrCat("scontrol show job -o ", id), &text) != 0) {
      return false;
    }
    task_states.clear();
    for (absl::string_view line :
         absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
      std::map<std::string, std::string> fields;
      for (absl::string_view word :
           absl::StrSplit(line, ' ', absl::SkipEmpty())) {
        const size_t eq = word.find('=');
        if (eq != absl::string_view::npos) {
          fields[std::string(word.substr(0, eq))] =
              std::string(word.substr(eq + 1));
        }
      }
      task_states[fields["ArrayTaskId"]] = fields["JobState"];
    }
    for (const auto& [task, state] : task_states) {
      if (state == "PENDING" || state == "RUNNING" || state == "CONFIGURING" ||
          state == "COMPLETING") {
        return false;
      }
    }
    return task_states.size() == 3;
  };
  ASSERT_TRUE(WaitUntil(std::chrono::seconds(40), all_tasks_over))
      << "array job " << id << " still queued";
  EXPECT_EQ(task_states,
            (std::map<std::string, std::string>{
                {"0", "COMPLETED"}, {"1", "COMPLETED"}, {"2", "COMPLETED"}}));

  // The coordinator writes the manifest on its own; wait for the last
  // results to reach it.
  json m;
  ASSERT_TRUE(WaitUntil(std::chrono::seconds(20), [&] {
    m = Manifest();
    return DoneCount(m) == 24 && m["sweep"]["state"] == "done";
  })) << m.dump();
  CheckManifest(m, 24, id, "array_job_id");
  // Each task is a SLURM job of its own, on a node of its own.
  std::map<std::string, std::set<std::string>> job_ids, nodes;
  for (const json& j : m["jobs"]) {
    SCOPED_TRACE(j.dump());
    ASSERT_TRUE(j["slurm"].contains("array_task_id"));
    const std::string task = j["slurm"]["array_task_id"];
    EXPECT_TRUE(task == "0" || task == "1" || task == "2") << task;
    EXPECT_EQ(j["slurm"]["restart_count"], 0);
    job_ids[task].insert(j["slurm"]["job_id"].get<std::string>());
    nodes[task].insert(j["slurm"]["node_name"].get<std::string>());
  }
  std::cout << "jobs per array task:";
  for (const auto& [task, ids] : job_ids) {
    int n = 0;
    for (const json& j : m["jobs"]) n += j["slurm"]["array_task_id"] == task;
    std::cout << " " << task << ":" << n;
  }
  std::cout << "\n";
  EXPECT_GE(job_ids.size(), 2u) << "only one array task rendered";
  std::set<std::string> distinct_jobs, distinct_nodes;
  for (const auto& [task, ids] : job_ids) {
    EXPECT_EQ(ids.size(), 1u) << task;
    EXPECT_EQ(nodes[task].size(), 1u) << task;
    distinct_jobs.insert(ids.begin(), ids.end());
    distinct_nodes.insert(nodes[task].begin(), nodes[task].end());
  }
  EXPECT_EQ(distinct_jobs.size(), job_ids.size());
  EXPECT_EQ(distinct_nodes.size(), job_ids.size());
}

}  // namespace
}  // namespace reelfarm
