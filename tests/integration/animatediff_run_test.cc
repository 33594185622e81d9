// `reelfarm run` on an AnimateDiff-style config renders the fixtures'
// pipeline case through the real pipeline, and its PNG frames equal the
// reference frames of the canonical implementation to within one level.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "nlohmann/json.hpp"
#include "node/pipeline/weights/safetensors.h"
#include "tests/integration/subprocess.h"
#include "tests/integration/tiny_animatediff.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;
using testing_process::Subprocess;
using testing_tiny::Fixtures;
using testing_tiny::ReadPng;
using testing_tiny::TinyModelFlags;

TEST(AnimateDiffRunTest, FramesMatchTheReferencePipeline) {
  const fs::path dir = fs::path(::testing::TempDir()) / "reelfarm_animatediff";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<std::string> models = TinyModelFlags(dir);
  const nlohmann::json params = nlohmann::json::parse(
      std::ifstream(Fixtures() + "/reference/pipeline.json"))["params"];
  std::ofstream(dir / "sweep.yaml")
      << "- motion_module: " << Fixtures()
      << "/original/animatediff_motion_module_v2_tiny.ckpt\n"
      << "  W: " << params["width"] << "\n  H: " << params["height"]
      << "\n  L: " << params["num_frames"]
      << "\n  steps: " << params["num_inference_steps"]
      << "\n  guidance_scale: " << params["guidance_scale"].get<double>()
      << "\n  seed: " << params["seed"] << "\n  prompt: [" << params["prompt"]
      << "]\n  n_prompt: [" << params["negative_prompt"] << "]\n";

  std::vector<std::string> argv = {REELFARM_BINARY,
                                   "run",
                                   (dir / "sweep.yaml").string(),
                                   "--out",
                                   (dir / "out").string(),
                                   "--devices",
                                   "cpu"};
  argv.insert(argv.end(), models.begin(), models.end());
  Subprocess run(argv, /*merge_stderr=*/true);
  const std::string output = run.ReadAll();
  ASSERT_EQ(run.Wait(), 0) << output;

  const nlohmann::json manifest =
      nlohmann::json::parse(std::ifstream(dir / "out" / "manifest.json"));
  ASSERT_EQ(manifest["jobs"].size(), 1u);
  nlohmann::json files = nlohmann::json::array();  // the PNG frames, in order
  for (const auto& f : manifest["jobs"][0]["files"]) {
    const std::string path = f["path"];
    if (path.find("/frame_") != std::string::npos) files.push_back(f);
  }
  auto ref =
      pipeline::LoadSafetensors(Fixtures() + "/reference/pipeline.safetensors");
  ASSERT_TRUE(ref.ok()) << ref.status();
  // (1, F, 3, H, W) in [0, 1] -> 8-bit as diffusers' numpy_to_pil rounds.
  const torch::Tensor want = (ref->at("frames")[0] * 255)
                                 .round()
                                 .clamp(0, 255)
                                 .to(torch::kInt32)
                                 .permute({0, 2, 3, 1})
                                 .contiguous();
  ASSERT_EQ(static_cast<int64_t>(files.size()), want.size(0));
  int worst = 0;
  for (int64_t f = 0; f < want.size(0); ++f) {
    int w = 0, h = 0;
    const std::vector<uint8_t> got = ReadPng(
        (dir / "out" / files[f]["path"].get<std::string>()).string(), &w, &h);
    ASSERT_EQ(w, want.size(2));
    ASSERT_EQ(h, want.size(1));
    const int32_t* expected = want[f].data_ptr<int32_t>();
    for (size_t i = 0; i < got.size(); ++i) {
      worst = std::max(worst, std::abs(static_cast<int>(got[i]) - expected[i]));
    }
  }
  EXPECT_LE(worst, 1)
      << "largest difference from the reference, in 8-bit levels";
}

// Renders `sweep` with `reelfarm run` and the tiny models into `out`, with
// extra flags; returns the manifest's one job.
nlohmann::json RunOne(const fs::path& dir, const std::string& sweep,
                      const fs::path& out,
                      const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {REELFARM_BINARY, "run", sweep, "--out",
                                   out.string()};
  for (const auto& more : {TinyModelFlags(dir), flags}) {
    argv.insert(argv.end(), more.begin(), more.end());
  }
  Subprocess run(argv, /*merge_stderr=*/true);
  const std::string output = run.ReadAll();
  EXPECT_EQ(run.Wait(), 0) << output;
  const nlohmann::json manifest =
      nlohmann::json::parse(std::ifstream(out / "manifest.json"));
  EXPECT_EQ(manifest["jobs"].size(), 1u);
  return manifest["jobs"][0];
}

// A 24-frame video in 16-frame windows asks for two devices. A node whose
// lane drives two (CPU) devices renders it on both, splitting the windows
// or each window's frames, and the frames equal a one-device render.
TEST(AnimateDiffRunTest, TwoDeviceLaneRendersTheSameVideo) {
  const fs::path dir = fs::path(::testing::TempDir()) / "reelfarm_two_devices";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* split : {"false", "true"}) {
    std::ofstream(dir / (std::string("sweep-") + split + ".yaml"))
        << testing_tiny::TinySweep(24, {"devices_per_video: 2",
                                        std::string("split_frames: ") + split});
  }
  const nlohmann::json one = RunOne(dir, (dir / "sweep-false.yaml").string(),
                                    dir / "one", {"--devices", "cpu"});
  EXPECT_FALSE(one.contains("devices")) << one.dump();
  const std::vector<std::string> lane = {"--devices", "cpu,cpu",
                                         "--devices-per-lane", "2"};
  const nlohmann::json windows =
      RunOne(dir, (dir / "sweep-false.yaml").string(), dir / "windows", lane);
  const nlohmann::json frames =
      RunOne(dir, (dir / "sweep-true.yaml").string(), dir / "frames", lane);
  for (const nlohmann::json* job : {&windows, &frames}) {
    EXPECT_EQ((*job)["devices"], nlohmann::json::array({"cpu", "cpu"}))
        << job->dump();
    EXPECT_EQ((*job)["id"], one["id"]);  // placement is not part of the id
  }
  const int worst_windows = testing_tiny::WorstFrameDifference(
      dir / "one", one, dir / "windows", windows);
  const int worst_frames = testing_tiny::WorstFrameDifference(
      dir / "one", one, dir / "frames", frames);
  RecordProperty("worst_level_difference_windows", worst_windows);
  RecordProperty("worst_level_difference_frames", worst_frames);
  EXPECT_LE(worst_windows, 1);
  EXPECT_LE(worst_frames, 1);
}

}  // namespace
}  // namespace reelfarm
