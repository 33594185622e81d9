#include "node/pipeline/animatediff/motion_module.h"

#include <torch/torch.h>

#include <cmath>

#include "node/pipeline/animatediff/unet_blocks.h"

namespace reelfarm::pipeline {

torch::Tensor FramePositionalEncoding(int64_t dim, int64_t max_len) {
  const torch::Tensor position =
      torch::arange(max_len, torch::kFloat32).unsqueeze(1);
  const torch::Tensor div_term =
      torch::exp(torch::arange(0, dim, 2, torch::kFloat32) *
                 (-std::log(10000.0) / static_cast<double>(dim)));
  torch::Tensor pe = torch::zeros({1, max_len, dim});
  using torch::indexing::None;
  using torch::indexing::Slice;
  pe.index_put_({0, Slice(), Slice(0, None, 2)},
                torch::sin(position * div_term));
  pe.index_put_({0, Slice(), Slice(1, None, 2)},
                torch::cos(position * div_term));
  return pe;
}

MotionModuleImpl::MotionModuleImpl(int64_t channels,
                                   const MotionConfig& config) {
  norm_ = register_module(
      "norm", MakeGroupNorm(config.norm_num_groups, channels, 1e-6));
  proj_in_ = register_module("proj_in", torch::nn::Linear(channels, channels));
  // Both attentions are self-attention over frames (double_self_attention).
  transformer_blocks_->push_back(TransformerBlock(
      channels, config.num_attention_heads, /*context_dim=*/0,
      FramePositionalEncoding(channels, config.max_seq_length)));
  register_module("transformer_blocks", transformer_blocks_);
  proj_out_ =
      register_module("proj_out", torch::nn::Linear(channels, channels));
}

torch::Tensor MotionModuleImpl::forward(const torch::Tensor& input,
                                        int64_t frames,
                                        const FrameSplit* split) {
  const int64_t bf = input.size(0), c = input.size(1), h = input.size(2),
                w = input.size(3);
  const int64_t b = bf / frames;
  // (B*F, C, H, W) -> (B, C, F, H, W) for frame-spanning GroupNorm.
  const torch::Tensor grouped =
      input.reshape({b, frames, c, h, w}).permute({0, 2, 1, 3, 4});
  torch::Tensor x = split == nullptr
                        ? norm_(grouped)
                        : ValueOrThrow(SplitGroupNorm(*norm_, grouped, *split));
  // -> (B*H*W, F, C): one sequence of frames per pixel.
  x = x.permute({0, 3, 4, 2, 1}).reshape({b * h * w, frames, c});
  x = proj_in_(x);
  for (const auto& block : *transformer_blocks_) {
    auto* transformer = block->as<TransformerBlock>();
    x = split == nullptr ? transformer->forward(x)
                         : transformer->forward(x, *split);
  }
  x = proj_out_(x);
  x = x.reshape({b, h, w, frames, c})
          .permute({0, 3, 4, 1, 2})
          .reshape({bf, c, h, w});
  return x + input;
}

}  // namespace reelfarm::pipeline
