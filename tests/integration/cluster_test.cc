// A real cluster on loopback: the reelfarm binary as a coordinator on an
// OS-chosen port, three node processes, and a client that submits a 60-job
// sweep and watches it finish.

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/sha256.h"
#include "nlohmann/json.hpp"
#include "tests/integration/subprocess.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;
using testing_process::Subprocess;

std::string Binary() { return REELFARM_BINARY; }

absl::Time ParseTime(const std::string& text) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &err)) << err;
  return t;
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / "reelfarm_cluster_test";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // 6 prompts x 10 seeds, 40 ms of simulated work each.
    std::ofstream(dir_ / "sweep.yaml") << R"(name: cluster
output: out
renderer: {name: test-pattern, ms_per_job: 40}
defaults: {W: 32, H: 16, L: 3, steps: 4, guidance_scale: 7.5}
grid:
  prompt: [a red fox, a blue whale, a green owl, a gray cat, a gold fish, a pink pig]
  seed: {range: [0, 10]}
)";
  }
  fs::path dir_;
};

TEST_F(ClusterTest, SixtyJobsOnThreeNodesLandInTheManifestExactlyOnce) {
  // Every process proves itself with the same token file.
  const std::string token = (dir_ / "token").string();
  std::ofstream(token) << "cluster-test-token\n";
  Subprocess coordinator({Binary(), "coordinator", "--listen", "127.0.0.1:0",
                          "--token-file", token, "--state-dir",
                          (dir_ / "state").string()});
  const std::string line = coordinator.ReadLine();  // "listening on ADDR"
  ASSERT_EQ(line.rfind("listening on ", 0), 0u) << line;
  const std::string address = line.substr(strlen("listening on "));

  std::vector<std::unique_ptr<Subprocess>> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(std::make_unique<Subprocess>(std::vector<std::string>{
        Binary(), "node", "--coordinator", address, "--devices", "cpu",
        "--lanes", i == 0 ? "2" : "1", "--node-id", "node-" + std::to_string(i),
        "--token-file", token}));
  }
  Subprocess submit({Binary(), "submit", (dir_ / "sweep.yaml").string(),
                     "--coordinator", address, "--out", (dir_ / "out").string(),
                     "--watch", "--token-file", token});
  const std::string sweep_id = submit.ReadLine();
  EXPECT_EQ(sweep_id.rfind("sw-", 0), 0u) << sweep_id;
  ASSERT_EQ(submit.Wait(), 0);

  for (auto& node : nodes) node->Signal(SIGTERM);
  for (auto& node : nodes) EXPECT_EQ(node->Wait(), 0);
  coordinator.Signal(SIGTERM);
  EXPECT_EQ(coordinator.Wait(), 0);

  std::ifstream in(dir_ / "out" / "manifest.json");
  ASSERT_TRUE(in.good());
  const nlohmann::json manifest = nlohmann::json::parse(in);
  EXPECT_EQ(manifest["sweep"]["id"], sweep_id);
  EXPECT_EQ(manifest["sweep"]["state"], "done");
  ASSERT_EQ(manifest["jobs"].size(), 60u);
  EXPECT_TRUE(fs::exists(dir_ / "out" / "gallery.html"));

  std::set<std::string> ids;
  std::set<std::pair<std::string, uint64_t>> params;
  std::map<std::string, int> per_node;
  struct Span {
    absl::Time start, end;
    int lane;
  };
  std::vector<Span> node0;
  size_t files = 0;
  for (const auto& job : manifest["jobs"]) {
    files += job["files"].size();
    EXPECT_EQ(job["status"], "done");
    EXPECT_TRUE(ids.insert(job["id"].get<std::string>()).second);
    params.insert({job["params"]["prompt"].get<std::string>(),
                   job["params"]["seed"].get<uint64_t>()});
    // 3 PNG frames and the clip (a GIF, and an MP4 where ffmpeg is).
    int frames = 0, gifs = 0;
    for (const auto& file : job["files"]) {
      const std::string name =
          fs::path(file["path"].get<std::string>()).filename().string();
      frames += name.rfind("frame_", 0) == 0;
      gifs += name == "clip.gif";
    }
    EXPECT_EQ(frames, 3);
    EXPECT_EQ(gifs, 1);
    for (const auto& file : job["files"]) {
      const fs::path path = dir_ / "out" / file["path"].get<std::string>();
      auto sha = Sha256FileHex(path.string());
      ASSERT_TRUE(sha.ok()) << sha.status();
      EXPECT_EQ(*sha, file["sha256"].get<std::string>()) << path;
    }
    const std::string node = job["node"];
    ++per_node[node];
    if (node == "node-0") {
      node0.push_back({ParseTime(job["timings"]["started"]),
                       ParseTime(job["timings"]["finished"]),
                       job["lane"].get<int>()});
    }
  }
  EXPECT_EQ(params.size(), 60u);  // every grid point, once
  EXPECT_EQ(per_node.size(), 3u) << "every node took work";

  // The two-lane node rendered two jobs at the same time.
  bool overlapped = false;
  for (size_t i = 0; i < node0.size() && !overlapped; ++i) {
    for (size_t j = i + 1; j < node0.size(); ++j) {
      if (node0[i].lane != node0[j].lane && node0[i].start < node0[j].end &&
          node0[j].start < node0[i].end) {
        overlapped = true;
        break;
      }
    }
  }
  EXPECT_TRUE(overlapped);

  // metadata.jsonl: one line per output file.
  std::ifstream meta(dir_ / "out" / "metadata.jsonl");
  int lines = 0;
  for (std::string l; std::getline(meta, l);) {
    auto j = nlohmann::json::parse(l);
    EXPECT_TRUE(fs::exists(dir_ / "out" / j["file_name"].get<std::string>()));
    ++lines;
  }
  EXPECT_EQ(lines, files);
}

}  // namespace
}  // namespace reelfarm
