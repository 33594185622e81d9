#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_VAE_DECODER_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_VAE_DECODER_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "node/pipeline/animatediff/unet_model.h"

namespace reelfarm::pipeline {

// diffusers' AutoencoderKL config, the decoder's part.
struct VaeConfig {
  int64_t latent_channels = 4;
  int64_t out_channels = 3;
  std::vector<int64_t> block_out_channels = {128, 256, 512, 512};
  int64_t layers_per_block = 2;
  int64_t norm_num_groups = 32;
  double scaling_factor = 0.18215;

  static absl::StatusOr<VaeConfig> FromJson(const nlohmann::json& json,
                                            const std::string& source);
};

// The VAE's single-head mid-block self-attention over pixels, with biases
// and its own GroupNorm (attentions.0.{group_norm,to_q,to_k,to_v,to_out.0}).
class VaeAttentionImpl : public torch::nn::Module {
 public:
  VaeAttentionImpl(int64_t channels, int64_t groups);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::GroupNorm group_norm_{nullptr};
  torch::nn::Linear to_q_{nullptr}, to_k_{nullptr}, to_v_{nullptr},
      to_out_{nullptr};
};
TORCH_MODULE(VaeAttention);

// AutoencoderKL's decode path: post_quant_conv, then the decoder. Weights
// load with the keys "post_quant_conv.*" and "decoder.*"; the encoder's
// keys are not used.
class VaeDecoderImpl : public torch::nn::Module {
 public:
  explicit VaeDecoderImpl(const VaeConfig& config);

  // Raw decode of (N, latent_channels, h, w) latents, already divided by
  // the scaling factor: (N, 3, 8h, 8w), not clamped.
  torch::Tensor forward(const torch::Tensor& latents, Probes* probes = nullptr);

  // The pipeline's decode of (B, C, F, h, w) video latents: scale, decode
  // `chunk` frames at a time (memory stays bounded for long videos), map
  // to [0, 1]. Returns (B, F, 3, H, W).
  torch::Tensor DecodeVideo(const torch::Tensor& latents, int64_t chunk);

  const VaeConfig& config() const { return config_; }

 private:
  VaeConfig config_;
  torch::nn::Conv2d post_quant_conv_{nullptr}, conv_in_{nullptr},
      conv_out_{nullptr};
  torch::nn::GroupNorm conv_norm_out_{nullptr};
  UNetLevel mid_block_{nullptr};
  torch::nn::ModuleList up_blocks_;
};
TORCH_MODULE(VaeDecoder);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_VAE_DECODER_H_
