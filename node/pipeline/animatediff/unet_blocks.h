#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_UNET_BLOCKS_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_UNET_BLOCKS_H_

// The layers a Stable Diffusion UNet is built from, named as diffusers names
// them so checkpoint keys load by name.

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "node/pipeline/video/frame_split.h"

namespace reelfarm::pipeline {

torch::nn::GroupNorm MakeGroupNorm(int64_t groups, int64_t channels,
                                   double eps);
torch::nn::Conv2d MakeConv(int64_t in, int64_t out, int64_t kernel,
                           int64_t stride = 1);

// diffusers' Attention: to_q, to_k, to_v without bias, to_out.0 with bias.
// Self-attention when no context is given.
class CrossAttentionImpl : public torch::nn::Module {
 public:
  CrossAttentionImpl(int64_t dim, int64_t context_dim, int64_t heads);
  // x: (N, L, dim); context: (N, S, context_dim) or undefined.
  torch::Tensor forward(const torch::Tensor& x,
                        const torch::Tensor& context = {});

 private:
  int64_t heads_;
  torch::nn::Linear to_q_{nullptr}, to_k_{nullptr}, to_v_{nullptr},
      to_out_{nullptr};
};
TORCH_MODULE(CrossAttention);

// FeedForward with GEGLU (exact erf GELU): ff.net.0.proj, ff.net.2.
class GegluFeedForwardImpl : public torch::nn::Module {
 public:
  explicit GegluFeedForwardImpl(int64_t dim);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Linear proj_{nullptr}, out_{nullptr};
};
TORCH_MODULE(GegluFeedForward);

// BasicTransformerBlock: pre-LayerNorm self-attention, attention to the
// context (or self-attention again), GEGLU feed-forward. With `positional`
// set (motion modules), a sinusoidal frame embedding is added to the
// normalized input of both attentions.
class TransformerBlockImpl : public torch::nn::Module {
 public:
  TransformerBlockImpl(int64_t dim, int64_t heads, int64_t context_dim,
                       const torch::Tensor& positional = {});
  torch::Tensor forward(const torch::Tensor& x,
                        const torch::Tensor& context = {});
  // Frame-split form of a motion block (both attentions self-attention over
  // frames): x holds this rank's frames; queries stay local, keys and values
  // come from every rank's normalised frames, positions are global.
  torch::Tensor forward(const torch::Tensor& x, const FrameSplit& split);

 private:
  torch::Tensor WithPosition(const torch::Tensor& x, int64_t offset = 0) const;

  torch::Tensor positional_;  // (1, max_len, dim); computed, not loaded
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr}, norm3_{nullptr};
  CrossAttention attn1_{nullptr}, attn2_{nullptr};
  GegluFeedForward ff_{nullptr};
};
TORCH_MODULE(TransformerBlock);

// Transformer2DModel with 1x1-conv projections (SD 1.x): GroupNorm, proj_in,
// one block over the H*W tokens, proj_out, residual.
class SpatialTransformerImpl : public torch::nn::Module {
 public:
  SpatialTransformerImpl(int64_t channels, int64_t heads, int64_t context_dim,
                         int64_t groups);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context);

 private:
  torch::nn::GroupNorm norm_{nullptr};
  torch::nn::Conv2d proj_in_{nullptr}, proj_out_{nullptr};
  torch::nn::ModuleList transformer_blocks_;
};
TORCH_MODULE(SpatialTransformer);

// ResnetBlock2D with a time embedding added between the two convolutions.
class ResnetBlockImpl : public torch::nn::Module {
 public:
  // temb_channels 0: no time embedding (the VAE's resnets).
  ResnetBlockImpl(int64_t in, int64_t out, int64_t temb_channels,
                  int64_t groups, double eps);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb = {});

 private:
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv_shortcut_{nullptr};
  torch::nn::Linear time_emb_proj_{nullptr};
};
TORCH_MODULE(ResnetBlock);

// Downsample2D: a 3x3 convolution with stride 2, padding 1.
class DownsampleImpl : public torch::nn::Module {
 public:
  explicit DownsampleImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(Downsample);

// Upsample2D: nearest-neighbour resize (to `size`, or x2), then a 3x3 conv.
class UpsampleImpl : public torch::nn::Module {
 public:
  explicit UpsampleImpl(int64_t channels);
  torch::Tensor forward(
      const torch::Tensor& x,
      c10::optional<std::vector<int64_t>> size = c10::nullopt);

 private:
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(Upsample);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_UNET_BLOCKS_H_
