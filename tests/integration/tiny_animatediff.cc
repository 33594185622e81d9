#include "tests/integration/tiny_animatediff.h"

#include <gtest/gtest.h>
#include <png.h>

#include <cstdlib>
#include <fstream>

namespace reelfarm::testing_tiny {

namespace fs = std::filesystem;

std::string Fixtures() {
  const char* env = std::getenv("REELFARM_FIXTURES");
  return env != nullptr && *env != '\0' ? env : REELFARM_DEFAULT_FIXTURES;
}

std::vector<uint8_t> ReadPng(const std::string& path, int* width, int* height) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  EXPECT_TRUE(png_image_begin_read_from_file(&image, path.c_str())) << path;
  image.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(image));
  EXPECT_TRUE(
      png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr));
  *width = image.width;
  *height = image.height;
  return pixels;
}

std::vector<std::string> TinyModelFlags(const fs::path& dir) {
  // The tiny motion module's shape, as AnimateDiff's inference configs
  // describe a motion module (norm_num_groups: the tiny model uses 4).
  std::ofstream(dir / "inference-tiny.yaml") << R"(unet_additional_kwargs:
  use_motion_module: true
  motion_module_mid_block: true
  motion_module_kwargs:
    num_attention_heads: 4
    norm_num_groups: 4
    temporal_position_encoding_max_len: 32
)";
  return {"--pretrained-model-path", Fixtures() + "/pipeline",
          "--inference-config", (dir / "inference-tiny.yaml").string()};
}

std::string TinySweep(int frames, const std::vector<std::string>& extra) {
  std::string entry =
      "- motion_module: " + Fixtures() +
      "/original/animatediff_motion_module_v2_tiny.ckpt\n  W: 64\n  H: 64\n"
      "  L: " +
      std::to_string(frames) +
      "\n  steps: 3\n  guidance_scale: 7.5\n  seed: 1234\n"
      "  prompt: [a corgi running on the beach]\n";
  for (const std::string& line : extra) entry += "  " + line + "\n";
  return entry;
}

int WorstFrameDifference(const fs::path& a_out, const nlohmann::json& a_job,
                         const fs::path& b_out, const nlohmann::json& b_job) {
  const auto frames = [](const fs::path& out, const nlohmann::json& job) {
    std::vector<std::string> paths;
    for (const auto& f : job["files"]) {
      const std::string path = f["path"];
      if (path.find("/frame_") != std::string::npos) {
        paths.push_back((out / path).string());
      }
    }
    return paths;
  };
  const std::vector<std::string> a = frames(a_out, a_job);
  const std::vector<std::string> b = frames(b_out, b_job);
  EXPECT_EQ(a.size(), b.size());
  EXPECT_FALSE(a.empty());
  int worst = 0;
  for (size_t f = 0; f < a.size() && f < b.size(); ++f) {
    int wa = 0, ha = 0, wb = 0, hb = 0;
    const std::vector<uint8_t> x = ReadPng(a[f], &wa, &ha);
    const std::vector<uint8_t> y = ReadPng(b[f], &wb, &hb);
    EXPECT_EQ(x.size(), y.size()) << a[f];
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      worst = std::max(worst, std::abs(static_cast<int>(x[i]) - y[i]));
    }
  }
  return worst;
}

}  // namespace reelfarm::testing_tiny
