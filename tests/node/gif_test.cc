// The GIF path: palette, mapping, dithering and the LZW encoder, checked
// against ffmpeg's decoder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "node/outputs/color_quantizer.h"
#include "node/outputs/gif_encoder.h"
#include "node/outputs/gif_writer.h"
#include "node/outputs/palette_mapper.h"
#include "tests/tools/required_tool.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;
using testing_tools::RunTool;

constexpr char kSkipEnv[] = "REELFARM_SKIP_MEDIA_TESTS";

// r along x, g along y, b along time: thousands of distinct colours.
Video Gradient(uint32_t w, uint32_t h, uint32_t frames) {
  Video v{w, h, {}};
  for (uint32_t f = 0; f < frames; ++f) {
    std::string rgb(size_t{w} * h * 3, '\0');
    for (uint32_t y = 0; y < h; ++y) {
      for (uint32_t x = 0; x < w; ++x) {
        const size_t i = (size_t{y} * w + x) * 3;
        rgb[i] = static_cast<char>(x * 255 / (w - 1));
        rgb[i + 1] = static_cast<char>(y * 255 / (h - 1));
        rgb[i + 2] = static_cast<char>(f * 255 / std::max(1u, frames - 1));
      }
    }
    v.frames.push_back(std::move(rgb));
  }
  return v;
}

std::string WriteTemp(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "/gif_test_" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// Every frame of a GIF as RGB8, by ffmpeg's decoder.
absl::StatusOr<std::string> DecodeRgb(const std::string& ffmpeg,
                                      const std::string& path) {
  return RunTool({ffmpeg, "-v", "error", "-i", path, "-fps_mode", "passthrough",
                  "-f", "rawvideo", "-pix_fmt", "rgb24", "-"});
}

std::set<uint32_t> DistinctColours(const std::string& rgb) {
  std::set<uint32_t> colours;
  for (size_t i = 0; i + 2 < rgb.size(); i += 3) {
    colours.insert(uint32_t(uint8_t(rgb[i])) << 16 |
                   uint32_t(uint8_t(rgb[i + 1])) << 8 | uint8_t(rgb[i + 2]));
  }
  return colours;
}

TEST(GifFrameDelaysTest, StayOnTimeInHundredths) {
  EXPECT_EQ(GifFrameDelays(4, 8), (std::vector<uint16_t>{13, 12, 13, 12}));
  EXPECT_EQ(GifFrameDelays(3, 10), (std::vector<uint16_t>{10, 10, 10}));
  const std::vector<uint16_t> d = GifFrameDelays(24, 24);
  EXPECT_EQ(std::accumulate(d.begin(), d.end(), 0), 100);
}

TEST(MedianCutPaletteTest, SmoothGradientKeepsAFullPalette) {
  const std::vector<Rgb> palette = MedianCutPalette(Gradient(64, 64, 4).frames);
  EXPECT_EQ(palette.size(), 256u);
  // Spread over the cube, not bunched: every red quarter is represented.
  std::set<int> quarters;
  for (const Rgb& c : palette) quarters.insert(c[0] / 64);
  EXPECT_EQ(quarters.size(), 4u);
}

TEST(MedianCutPaletteTest, FewColoursComeBackExactly) {
  std::string rgb;
  const std::vector<Rgb> colours = {
      {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {12, 34, 56}};
  for (int i = 0; i < 100; ++i) {
    const Rgb& c = colours[i % colours.size()];
    rgb.append(reinterpret_cast<const char*>(c.data()), 3);
  }
  std::vector<Rgb> palette = MedianCutPalette({rgb});
  std::vector<Rgb> want = colours;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(palette, want);
}

TEST(PaletteMapperTest, NearestMatchesExhaustiveSearch) {
  std::mt19937 rng(7);
  std::vector<Rgb> palette;
  for (int i = 0; i < 200; ++i) {
    palette.push_back({uint8_t(rng()), uint8_t(rng()), uint8_t(rng())});
  }
  PaletteMapper mapper(palette);
  for (int n = 0; n < 5000; ++n) {
    const int r = rng() & 255, g = rng() & 255, b = rng() & 255;
    int best = 1 << 30;
    for (const Rgb& c : palette) {
      best = std::min(best, (c[0] - r) * (c[0] - r) + (c[1] - g) * (c[1] - g) +
                                (c[2] - b) * (c[2] - b));
    }
    const Rgb& got = palette[mapper.Nearest(r, g, b)];
    EXPECT_EQ((got[0] - r) * (got[0] - r) + (got[1] - g) * (got[1] - g) +
                  (got[2] - b) * (got[2] - b),
              best);
  }
}

TEST(PaletteMapperTest, DitheringKeepsTheAverageTone) {
  // Mid grey on a black-and-white palette: plain mapping picks one of them,
  // Floyd-Steinberg alternates so the area averages to the grey.
  const uint32_t w = 32, h = 32;
  const std::string grey(size_t{w} * h * 3, static_cast<char>(100));
  PaletteMapper mapper({{0, 0, 0}, {255, 255, 255}});
  auto mean = [&](const std::string& indices) {
    double sum = 0;
    for (char i : indices) sum += mapper.palette()[uint8_t(i)][0];
    return sum / indices.size();
  };
  EXPECT_EQ(mean(mapper.MapFrame(grey, w, h, false)), 0.0);
  EXPECT_NEAR(mean(mapper.MapFrame(grey, w, h, true)), 100.0, 4.0);
}

TEST(GifEncoderTest, RejectsIndicesBeyondThePalette) {
  auto gif = EncodeGif(2, 1, {{0, 0, 0}}, {std::string("\x00\x01", 2)}, {10});
  EXPECT_FALSE(gif.ok());
}

// Random indices defeat LZW's dictionary, so codes widen to 12 bits and the
// table is cleared many times: the decoder must read back every pixel.
TEST(GifEncoderTest, FfmpegDecodesEveryPixel) {
  REELFARM_REQUIRE_TOOL(ffmpeg, "ffmpeg", kSkipEnv);
  std::mt19937 rng(11);
  for (size_t colours : {2u, 5u, 256u}) {
    std::vector<Rgb> palette;
    for (size_t i = 0; i < colours; ++i) {
      palette.push_back({uint8_t(i), uint8_t(255 - i), uint8_t(i * 7)});
    }
    const uint32_t w = 97, h = 61;  // odd sizes on purpose
    std::vector<std::string> frames;
    for (int f = 0; f < 3; ++f) {
      std::string indices(size_t{w} * h, '\0');
      for (size_t i = 0; i < indices.size(); ++i) {
        // A run of one colour, then noise: both paths through the table.
        indices[i] = static_cast<char>(i < 500 ? 0 : rng() % colours);
      }
      frames.push_back(std::move(indices));
    }
    auto gif = EncodeGif(w, h, palette, frames, {5, 5, 5});
    ASSERT_TRUE(gif.ok()) << gif.status();
    const std::string path =
        WriteTemp("random" + std::to_string(colours) + ".gif", *gif);
    absl::StatusOr<std::string> rgb = DecodeRgb(ffmpeg, path);
    ASSERT_TRUE(rgb.ok()) << rgb.status();
    ASSERT_EQ(rgb->size(), size_t{3} * w * h * 3) << colours << " colours";
    for (size_t f = 0; f < 3; ++f) {
      for (size_t i = 0; i < size_t{w} * h; ++i) {
        const Rgb& want = palette[uint8_t(frames[f][i])];
        const size_t at = (f * w * h + i) * 3;
        ASSERT_EQ(uint8_t((*rgb)[at]), want[0]) << "frame " << f << " px " << i;
        ASSERT_EQ(uint8_t((*rgb)[at + 1]), want[1]);
        ASSERT_EQ(uint8_t((*rgb)[at + 2]), want[2]);
      }
    }
  }
}

TEST(AnimatedGifTest, FfprobeSeesFramesSizeAndTiming) {
  REELFARM_REQUIRE_TOOL(ffprobe, "ffprobe", kSkipEnv);
  for (bool dither : {false, true}) {
    auto gif = EncodeAnimatedGif(Gradient(64, 48, 8), 8, dither);
    ASSERT_TRUE(gif.ok()) << gif.status();
    const std::string path =
        WriteTemp(dither ? "dither.gif" : "plain.gif", *gif);
    absl::StatusOr<std::string> out =
        RunTool({ffprobe, "-v", "error", "-count_frames", "-select_streams",
                 "v:0", "-show_entries",
                 "stream=codec_name,width,height,nb_read_frames:format="
                 "duration",
                 "-of", "default=noprint_wrappers=1", path});
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_NE(out->find("codec_name=gif\n"), std::string::npos) << *out;
    EXPECT_NE(out->find("width=64\n"), std::string::npos) << *out;
    EXPECT_NE(out->find("height=48\n"), std::string::npos) << *out;
    EXPECT_NE(out->find("nb_read_frames=8\n"), std::string::npos) << *out;
    // 8 frames at 8 fps: one second.
    const size_t at = out->find("duration=");
    ASSERT_NE(at, std::string::npos) << *out;
    double seconds = 0;
    ASSERT_TRUE(
        absl::SimpleAtod(absl::StripAsciiWhitespace(
                             absl::string_view(*out).substr(at + 9).substr(
                                 0, out->find('\n', at) - at - 9)),
                         &seconds));
    EXPECT_NEAR(seconds, 1.0, 0.02);
  }
}

TEST(AnimatedGifTest, GradientClipKeepsItsColoursThroughTheDecoder) {
  REELFARM_REQUIRE_TOOL(ffmpeg, "ffmpeg", kSkipEnv);
  const Video clip = Gradient(96, 96, 4);
  auto gif = EncodeAnimatedGif(clip, 8, /*dither=*/false);
  ASSERT_TRUE(gif.ok()) << gif.status();
  absl::StatusOr<std::string> rgb =
      DecodeRgb(ffmpeg, WriteTemp("gradient.gif", *gif));
  ASSERT_TRUE(rgb.ok()) << rgb.status();
  ASSERT_EQ(rgb->size(), size_t{4} * 96 * 96 * 3);
  // The whole palette is in use, not a handful of bands...
  EXPECT_GT(DistinctColours(*rgb).size(), 240u);
  // ...and every pixel stays close to its source.
  double error = 0;
  std::string source;
  for (const std::string& f : clip.frames) source += f;
  for (size_t i = 0; i < source.size(); ++i) {
    error += std::abs(int(uint8_t(source[i])) - int(uint8_t((*rgb)[i])));
  }
  EXPECT_LT(error / source.size(), 6.0);
}

}  // namespace
}  // namespace reelfarm
