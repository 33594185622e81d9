#include "node/pipeline/video/context_windows.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "node/pipeline/video/free_noise.h"

namespace reelfarm::pipeline {
namespace {

using Windows = std::vector<std::vector<int64_t>>;

Windows Schedule(int64_t frames, int64_t length, int64_t stride,
                 bool loop = false) {
  ContextOptions o;
  o.length = length;
  o.stride = stride;
  o.loop = loop;
  auto w = ContextWindows(frames, o);
  EXPECT_TRUE(w.ok()) << w.status();
  return w.ok() ? *w : Windows{};
}

std::vector<int64_t> Range(int64_t begin, int64_t end) {
  std::vector<int64_t> r;
  for (int64_t i = begin; i < end; ++i) r.push_back(i);
  return r;
}

// How many windows cover each frame.
std::vector<int> Coverage(const Windows& windows, int64_t frames) {
  std::vector<int> c(frames, 0);
  for (const auto& w : windows) {
    for (int64_t f : w) ++c.at(f);
  }
  return c;
}

TEST(ContextWindowsTest, ShortVideoIsOneWindow) {
  EXPECT_EQ(Schedule(1, 16, 4), Windows{{0}});
  EXPECT_EQ(Schedule(16, 16, 4), Windows{Range(0, 16)});
  EXPECT_EQ(Schedule(8, 16, 4, /*loop=*/true), Windows{Range(0, 8)});
}

TEST(ContextWindowsTest, UniformWindowsWithOverlap) {
  // diffusers' FreeNoise schedule: starts 0, 4, .., 32 for 48 frames.
  const Windows w = Schedule(48, 16, 4);
  ASSERT_EQ(w.size(), 9u);
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(w[i], Range(4 * i, 4 * i + 16)) << i;
  }
  const std::vector<int> c = Coverage(w, 48);
  EXPECT_EQ(c[0], 1);
  EXPECT_EQ(c[4], 2);
  EXPECT_EQ(c[20], 4);
  EXPECT_EQ(c[47], 1);
}

TEST(ContextWindowsTest, FramesNotMultipleOfStrideEndOnLastFrame) {
  const Windows w = Schedule(23, 16, 4);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0], Range(0, 16));
  EXPECT_EQ(w[1], Range(4, 20));
  EXPECT_EQ(w[2], Range(7, 23));  // appended so frame 22 is covered
  for (int c : Coverage(w, 23)) EXPECT_GE(c, 1);
}

TEST(ContextWindowsTest, StrideEdgeCases) {
  // stride == length: tiles without overlap, a last window pulled back.
  const Windows tiles = Schedule(40, 16, 16);
  ASSERT_EQ(tiles.size(), 3u);
  EXPECT_EQ(tiles[2], Range(24, 40));
  // stride 1: one window per start.
  EXPECT_EQ(Schedule(20, 16, 1).size(), 5u);
  // length 1: every frame alone.
  const Windows ones = Schedule(5, 1, 1);
  ASSERT_EQ(ones.size(), 5u);
  for (int c : Coverage(ones, 5)) EXPECT_EQ(c, 1);
  ContextOptions bad;
  bad.stride = 17;
  EXPECT_FALSE(ContextWindows(48, bad).ok());
  bad.stride = 0;
  EXPECT_FALSE(ContextWindows(48, bad).ok());
  bad = ContextOptions();
  bad.length = 0;
  EXPECT_FALSE(ContextWindows(48, bad).ok());
  EXPECT_FALSE(ContextWindows(0, ContextOptions()).ok());
}

TEST(ContextWindowsTest, LoopWrapsAround) {
  const Windows w = Schedule(24, 16, 4, /*loop=*/true);
  ASSERT_EQ(w.size(), 6u);  // starts 0, 4, .., 20
  std::vector<int64_t> last = Range(20, 24);
  for (int64_t f : Range(0, 12)) last.push_back(f);
  EXPECT_EQ(w[5], last);
  for (const auto& window : w) EXPECT_EQ(window.size(), 16u);
  // Every frame is covered equally: no seam at the loop point.
  for (int c : Coverage(w, 24)) EXPECT_EQ(c, 4);
  // A stride that does not divide the frames still covers all of them.
  for (int c : Coverage(Schedule(23, 16, 4, true), 23)) EXPECT_GE(c, 3);
}

TEST(ContextWindowsTest, Weights) {
  EXPECT_EQ(WindowWeights(4, ContextFuse::kPyramid),
            (std::vector<float>{1, 2, 2, 1}));
  EXPECT_EQ(WindowWeights(5, ContextFuse::kPyramid),
            (std::vector<float>{1, 2, 3, 2, 1}));
  EXPECT_EQ(WindowWeights(1, ContextFuse::kPyramid), std::vector<float>{1});
  EXPECT_EQ(WindowWeights(3, ContextFuse::kFlat),
            (std::vector<float>{1, 1, 1}));
  const std::vector<float> w16 = WindowWeights(16, ContextFuse::kPyramid);
  EXPECT_EQ(w16[7], 8);
  EXPECT_EQ(w16[8], 8);
  EXPECT_EQ(w16[15], 1);
  EXPECT_TRUE(ParseContextFuse("flat").ok());
  EXPECT_FALSE(ParseContextFuse("gaussian").ok());
}

TEST(ContextWindowsTest, RanksSplitEveryWindowOnce) {
  for (auto assignment :
       {WindowAssignment::kRoundRobin, WindowAssignment::kContiguous}) {
    for (int ranks = 1; ranks <= 4; ++ranks) {
      std::multiset<int64_t> seen;
      for (int r = 0; r < ranks; ++r) {
        for (int64_t i : WindowsForRank(9, r, ranks, assignment)) {
          seen.insert(i);
        }
      }
      EXPECT_EQ(seen, (std::multiset<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
    }
  }
  EXPECT_EQ(WindowsForRank(9, 1, 2, WindowAssignment::kRoundRobin),
            (std::vector<int64_t>{1, 3, 5, 7}));
  EXPECT_EQ(WindowsForRank(9, 1, 2, WindowAssignment::kContiguous),
            (std::vector<int64_t>{5, 6, 7, 8}));
  EXPECT_TRUE(WindowsForRank(2, 3, 4, WindowAssignment::kRoundRobin).empty());
}

torch::Tensor ShuffledNoise(uint64_t seed, int64_t frames) {
  at::Generator g = at::detail::createCPUGenerator(seed);
  // Frame f's noise is all f, so the result shows where frames came from.
  torch::Tensor noise = torch::arange(frames, torch::kFloat32)
                            .view({1, 1, frames, 1, 1})
                            .expand({1, 2, frames, 2, 2})
                            .contiguous();
  ShuffleNoiseInWindows(noise, 16, 4, g);
  return noise;
}

TEST(FreeNoiseTest, ShuffleIsDeterministicWithTheSeed) {
  const torch::Tensor a = ShuffledNoise(7, 48);
  EXPECT_TRUE(torch::equal(a, ShuffledNoise(7, 48)));
  EXPECT_FALSE(torch::equal(a, ShuffledNoise(8, 48)));
  // The first window keeps its own noise; later frames repeat it.
  const torch::Tensor src = a.select(1, 0).select(2, 0).select(2, 0)[0];
  EXPECT_TRUE(
      torch::equal(src.slice(0, 0, 16), torch::arange(16, torch::kFloat32)));
  for (int64_t i = 16; i < 48; i += 4) {
    // Block [i, i+4) is a permutation of block [i-16, i-12).
    auto got = std::get<0>(src.slice(0, i, i + 4).sort());
    auto want = std::get<0>(src.slice(0, i - 16, i - 12).sort());
    EXPECT_TRUE(torch::equal(got, want)) << i;
  }
  // Channels and pixels of a frame move together.
  EXPECT_TRUE(torch::equal(a.select(1, 0), a.select(1, 1)));
}

TEST(FreeNoiseTest, ShortVideosAndRaggedTails) {
  EXPECT_TRUE(
      torch::equal(ShuffledNoise(1, 16), torch::arange(16, torch::kFloat32)
                                             .view({1, 1, 16, 1, 1})
                                             .expand({1, 2, 16, 2, 2})));
  // 18 frames: the last block has 2 frames, drawn from frames 0..3.
  const torch::Tensor a = ShuffledNoise(3, 18);
  const torch::Tensor tail = a[0][0].slice(0, 16, 18).select(1, 0).select(1, 0);
  EXPECT_LT(tail.max().item<float>(), 4);
  EXPECT_NE(tail[0].item<float>(), tail[1].item<float>());
}

}  // namespace
}  // namespace reelfarm::pipeline
