// formats, video and gallery: defaults, values, and located errors.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sweep/sweep_loader.h"
#include "gtest/gtest.h"
#include "tests/sweep/test_util.h"

namespace reelfarm::config {
namespace {

using testing_util::ErrorIs;
using testing_util::NoModelCheck;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

// A valid reelfarm sweep whose first line is line 1; `extra` goes first.
std::string Sweep(const std::string& extra) {
  return extra +
         "renderer: test-pattern\n"
         "defaults: {prompt: a cat, steps: 2, guidance_scale: 7}\n"
         "grid: {seed: [1, 2]}\n";
}

absl::StatusOr<v1::SweepSpec> Load(const std::string& yaml,
                                   bool mp4_available = true) {
  LoadOptions options = NoModelCheck();
  options.mp4_available = mp4_available;
  return ParseSweepText(yaml, "sweep.yaml", options);
}

std::vector<std::string> Formats(const v1::SweepSpec& spec) {
  return {spec.formats().begin(), spec.formats().end()};
}

TEST(OutputSettingsTest, DefaultsIncludeMp4OnlyWithFfmpeg) {
  absl::StatusOr<v1::SweepSpec> with = Load(Sweep(""), true);
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(Formats(*with), (std::vector<std::string>{"frames", "gif", "mp4"}));
  EXPECT_EQ(with->video().fps(), 8u);
  EXPECT_TRUE(with->video().gif_dither());
  EXPECT_EQ(with->video().mp4_crf(), 18u);
  EXPECT_EQ(with->gallery().rows(), "prompt");
  EXPECT_EQ(with->gallery().columns(), "seed");
  EXPECT_EQ(with->warnings_size(), 0);

  absl::StatusOr<v1::SweepSpec> without = Load(Sweep(""), false);
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_EQ(Formats(*without), (std::vector<std::string>{"frames", "gif"}));
  EXPECT_EQ(without->warnings_size(), 0);
}

TEST(OutputSettingsTest, AnimateDiffConfigsGetTheDefaults) {
  absl::StatusOr<v1::SweepSpec> spec = Load(
      "- prompt: [a cat]\n  steps: 2\n  guidance_scale: 7\n"
      "  seed: 1\n  motion_module: mm.ckpt\n");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(Formats(*spec), (std::vector<std::string>{"frames", "gif", "mp4"}));
  EXPECT_EQ(spec->gallery().rows(), "prompt");
}

TEST(OutputSettingsTest, ChosenFormatsAndOptions) {
  absl::StatusOr<v1::SweepSpec> spec = Load(
      Sweep("formats: [gif, mp4]\n"
            "video: {fps: 12, gif_dither: false, mp4_crf: 0}\n"
            "gallery: {rows: guidance_scale, columns: negative_prompt}\n"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(Formats(*spec), (std::vector<std::string>{"gif", "mp4"}));
  EXPECT_EQ(spec->video().fps(), 12u);
  EXPECT_FALSE(spec->video().gif_dither());
  ASSERT_TRUE(spec->video().has_mp4_crf());
  EXPECT_EQ(spec->video().mp4_crf(), 0u);  // lossless is a real choice
  EXPECT_EQ(spec->gallery().rows(), "guidance_scale");
  EXPECT_EQ(spec->gallery().columns(), "n_prompt");  // the alias, resolved
}

TEST(OutputSettingsTest, OneGalleryAxisOntoTheOthersDefaultSwaps) {
  absl::StatusOr<v1::SweepSpec> spec = Load(Sweep("gallery: {rows: seed}\n"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->gallery().rows(), "seed");
  EXPECT_EQ(spec->gallery().columns(), "prompt");
}

TEST(OutputSettingsTest, ExplicitMp4WithoutFfmpegWarns) {
  absl::StatusOr<v1::SweepSpec> spec =
      Load(Sweep("formats: [frames, mp4]\n"), /*mp4_available=*/false);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(Formats(*spec), (std::vector<std::string>{"frames", "mp4"}));
  ASSERT_EQ(spec->warnings_size(), 1);
  EXPECT_EQ(spec->warnings(0).rfind("sweep.yaml:1:19: formats: mp4 needs "
                                    "the ffmpeg program",
                                    0),
            0u)
      << spec->warnings(0);
}

TEST(OutputSettingsTest, LocatedErrors) {
  EXPECT_TRUE(ErrorIs(Load(Sweep("formats: [frames, webm]\n")).status(),
                      kInvalid, "sweep.yaml:1:19: formats: ",
                      "unknown format 'webm'; supported: frames, gif, mp4"));
  EXPECT_TRUE(ErrorIs(Load(Sweep("formats: [frames, gfi]\n")).status(),
                      kInvalid, "sweep.yaml:1:19: formats: ",
                      "unknown format 'gfi'; did you mean 'gif'?"));
  EXPECT_TRUE(ErrorIs(Load(Sweep("formats: [gif, gif]\n")).status(), kInvalid,
                      "sweep.yaml:1:16: formats: ", "'gif' is listed twice"));
  EXPECT_TRUE(
      ErrorIs(Load(Sweep("formats: []\n")).status(), kInvalid,
              "sweep.yaml:1:10: formats: ", "must be a non-empty list"));
  EXPECT_TRUE(ErrorIs(
      Load(Sweep("video:\n  fps: 0\n")).status(), kInvalid,
      "sweep.yaml:2:8: video.fps: ", "must be an integer from 1 to 60, got 0"));
  EXPECT_TRUE(ErrorIs(Load(Sweep("video: {mp4_crf: 52}\n")).status(), kInvalid,
                      "sweep.yaml:1:18: video.mp4_crf: ",
                      "must be an integer from 0 to 51, got 52"));
  EXPECT_TRUE(ErrorIs(Load(Sweep("video: {gif_dither: maybe}\n")).status(),
                      kInvalid, "sweep.yaml:1:21: video.gif_dither: "));
  EXPECT_TRUE(ErrorIs(Load(Sweep("video: {dither: true}\n")).status(), kInvalid,
                      "sweep.yaml:1:9: video: ",
                      "unknown key 'dither'; did you mean 'gif_dither'?"));
  EXPECT_TRUE(ErrorIs(Load(Sweep("gallery: {rows: sede}\n")).status(), kInvalid,
                      "sweep.yaml:1:17: gallery.rows: ",
                      "'sede' is not a render field; did you mean 'seed'?"));
  EXPECT_TRUE(
      ErrorIs(Load(Sweep("gallery: {rows: steps, columns: steps}\n")).status(),
              kInvalid, "sweep.yaml:1:33: gallery.columns: ",
              "must differ from gallery.rows ('steps')"));
}

}  // namespace
}  // namespace reelfarm::config
