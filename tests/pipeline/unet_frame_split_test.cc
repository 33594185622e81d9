#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <iostream>
#include <thread>
#include <vector>

#include "node/pipeline/animatediff/unet_blocks.h"
#include "node/pipeline/animatediff/unet_model.h"
#include "node/pipeline/comm/in_process_communicator.h"
#include "node/pipeline/video/frame_split.h"
#include "node/pipeline/weights/json_config.h"
#include "node/pipeline/weights/safetensors.h"
#include "node/pipeline/weights/state_dict.h"
#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline {
namespace {

using testing::FixturePath;

// Runs fn(split, rank) on `ranks` threads, one per communicator rank, and
// returns their results concatenated along `dim` in rank order.
template <typename Fn>
torch::Tensor RunSplit(int ranks, int64_t total_frames, int64_t dim, Fn fn) {
  auto group = comm::MakeInProcessGroup(ranks);
  std::vector<torch::Tensor> outs(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      torch::NoGradGuard no_grad;  // thread-local
      outs[r] = fn(MakeFrameSplit(group[r].get(), total_frames), r);
    });
  }
  for (auto& t : threads) t.join();
  return torch::cat(outs, dim);
}

double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

TEST(FrameSplitTest, SlicesCoverTheWindowInOrder) {
  EXPECT_EQ(FrameSliceOf(8, 3, 0).offset, 0);
  EXPECT_EQ(FrameSliceOf(8, 3, 0).count, 3);
  EXPECT_EQ(FrameSliceOf(8, 3, 1).offset, 3);
  EXPECT_EQ(FrameSliceOf(8, 3, 1).count, 3);
  EXPECT_EQ(FrameSliceOf(8, 3, 2).offset, 6);
  EXPECT_EQ(FrameSliceOf(8, 3, 2).count, 2);
}

TEST(FrameSplitTest, GroupNormAndGatherMatchUnsplit) {
  torch::manual_seed(7);
  const torch::Tensor x = torch::randn({2, 8, 7, 3, 3}) * 3 + 1;
  torch::nn::GroupNorm norm(torch::nn::GroupNormOptions(4, 8).eps(1e-6));
  torch::NoGradGuard no_grad;
  norm->weight.normal_();
  norm->bias.normal_();
  const torch::Tensor want = norm(x);
  for (int ranks : {2, 3}) {
    const auto slice_of = [&](const FrameSplit& split, int rank) {
      return x.slice(2, split.frame_offset,
                     split.frame_offset + FrameSliceOf(7, ranks, rank).count);
    };
    torch::Tensor normed =
        RunSplit(ranks, 7, 2, [&](const FrameSplit& split, int rank) {
          auto y = SplitGroupNorm(*norm, slice_of(split, rank), split);
          EXPECT_TRUE(y.ok()) << y.status();
          return *y;
        });
    EXPECT_LT(MaxAbsDiff(normed, want), 1e-5) << ranks << " ranks";
    // Every rank gathers the whole window; keep rank 0's copy once.
    torch::Tensor gathered =
        RunSplit(ranks, 7, 0, [&](const FrameSplit& split, int rank) {
          auto all = GatherFrames(slice_of(split, rank), 2, split);
          EXPECT_TRUE(all.ok()) << all.status();
          return all->unsqueeze(0);
        });
    for (int r = 0; r < ranks; ++r) EXPECT_TRUE(gathered[r].equal(x)) << r;
  }
}

UNet FixtureMotionUNet() {
  auto unet_json = ReadJsonFile(FixturePath("pipeline/unet/config.json"));
  EXPECT_TRUE(unet_json.ok()) << unet_json.status();
  auto unet_config = UNetConfig::FromJson(*unet_json, "unet/config.json");
  EXPECT_TRUE(unet_config.ok()) << unet_config.status();
  auto motion_json = ReadJsonFile(FixturePath("motion_adapter/config.json"));
  EXPECT_TRUE(motion_json.ok()) << motion_json.status();
  auto motion_config =
      MotionConfig::FromJson(*motion_json, "motion_adapter/config.json");
  EXPECT_TRUE(motion_config.ok()) << motion_config.status();
  UNet unet(*unet_config, *motion_config);
  auto weights = LoadSafetensors(
      FixturePath("pipeline/unet/diffusion_pytorch_model.safetensors"));
  EXPECT_TRUE(weights.ok()) << weights.status();
  auto motion = LoadSafetensors(
      FixturePath("motion_adapter/diffusion_pytorch_model.safetensors"));
  EXPECT_TRUE(motion.ok()) << motion.status();
  TensorMap all = *weights;
  all.insert(motion->begin(), motion->end());
  absl::Status loaded = LoadStateDict(*unet, all, "", "unet", {"pos_embed.pe"});
  EXPECT_TRUE(loaded.ok()) << loaded;
  unet->eval();
  return unet;
}

TEST(FrameSplitTest, SplitMotionUNetMatchesUnsplit) {
  const TensorMap ref = testing::LoadReferenceTensors("unet");
  UNet unet = FixtureMotionUNet();
  const torch::Tensor& sample = ref.at("sample");  // (B, C, F, H, W)
  const torch::Tensor& timestep = ref.at("timestep_int");
  const torch::Tensor& context = ref.at("encoder_hidden_states");
  const int64_t frames = sample.size(2);
  torch::Tensor want;
  {
    torch::NoGradGuard no_grad;
    want = unet->forward(sample, timestep, context);
  }
  for (int ranks : {2, 3}) {
    torch::Tensor got =
        RunSplit(ranks, frames, 2, [&](const FrameSplit& split, int rank) {
          const int64_t count = FrameSliceOf(frames, ranks, rank).count;
          return unet->forward(
              sample.slice(2, split.frame_offset, split.frame_offset + count),
              timestep, context, nullptr, &split);
        });
    ASSERT_EQ(got.sizes(), want.sizes());
    const double diff = MaxAbsDiff(got, want);
    const double scale = std::max(1.0, want.abs().max().item<double>());
    std::cout << ranks << " ranks: max |split - unsplit| = " << diff
              << " (max |unsplit| = " << scale << ")\n";
    RecordProperty("max_abs_diff_" + std::to_string(ranks) + "_ranks",
                   std::to_string(diff));
    // Float rounding: GroupNorm statistics and attention sums are added in
    // another order than in the unsplit run.
    EXPECT_LT(diff, 1e-5 * scale) << ranks << " ranks";
  }
}

}  // namespace
}  // namespace reelfarm::pipeline
