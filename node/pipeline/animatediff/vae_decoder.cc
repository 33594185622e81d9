#include "node/pipeline/animatediff/vae_decoder.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "node/pipeline/nn/attention_ops.h"
#include "node/pipeline/weights/json_config.h"
#include "node/pipeline/animatediff/unet_blocks.h"

namespace reelfarm::pipeline {
namespace {

constexpr double kVaeEps = 1e-6;

}  // namespace

absl::StatusOr<VaeConfig> VaeConfig::FromJson(const nlohmann::json& json,
                                              const std::string& source) {
  VaeConfig c;
  JsonConfigReader r(json, source);
  r.Int("latent_channels", &c.latent_channels);
  r.Int("out_channels", &c.out_channels);
  r.IntList("block_out_channels", &c.block_out_channels);
  r.Int("layers_per_block", &c.layers_per_block);
  r.Int("norm_num_groups", &c.norm_num_groups);
  r.Double("scaling_factor", &c.scaling_factor);
  if (!r.status().ok()) return r.status();
  if (c.block_out_channels.empty() || c.scaling_factor <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": needs block_out_channels and a positive scaling_factor"));
  }
  return c;
}

VaeAttentionImpl::VaeAttentionImpl(int64_t channels, int64_t groups) {
  group_norm_ =
      register_module("group_norm", MakeGroupNorm(groups, channels, kVaeEps));
  to_q_ = register_module("to_q", torch::nn::Linear(channels, channels));
  to_k_ = register_module("to_k", torch::nn::Linear(channels, channels));
  to_v_ = register_module("to_v", torch::nn::Linear(channels, channels));
  torch::nn::ModuleList to_out;
  to_out_ = torch::nn::Linear(channels, channels);
  to_out->push_back(to_out_);
  register_module("to_out", to_out);
}

torch::Tensor VaeAttentionImpl::forward(const torch::Tensor& input) {
  const int64_t n = input.size(0), c = input.size(1), h = input.size(2),
                w = input.size(3);
  torch::Tensor x = group_norm_(input).view({n, c, h * w}).transpose(1, 2);
  // One head spanning all channels.
  torch::Tensor out =
      Attention(to_q_(x).unsqueeze(1), to_k_(x).unsqueeze(1),
                to_v_(x).unsqueeze(1), 1.0 / std::sqrt(static_cast<double>(c)))
          .squeeze(1);
  out = to_out_(out).transpose(1, 2).reshape({n, c, h, w});
  return out + input;
}

VaeDecoderImpl::VaeDecoderImpl(const VaeConfig& config) : config_(config) {
  const std::vector<int64_t>& ch = config.block_out_channels;
  const int64_t groups = config.norm_num_groups;
  post_quant_conv_ = register_module(
      "post_quant_conv",
      MakeConv(config.latent_channels, config.latent_channels, 1));
  auto decoder =
      register_module("decoder", std::make_shared<torch::nn::Module>());
  conv_in_ = decoder->register_module(
      "conv_in", MakeConv(config.latent_channels, ch.back(), 3));

  mid_block_ = UNetLevel();
  mid_block_->resnets->push_back(
      ResnetBlock(ch.back(), ch.back(), 0, groups, kVaeEps));
  mid_block_->resnets->push_back(
      ResnetBlock(ch.back(), ch.back(), 0, groups, kVaeEps));
  mid_block_->attentions->push_back(VaeAttention(ch.back(), groups));
  mid_block_->register_module("resnets", mid_block_->resnets);
  mid_block_->register_module("attentions", mid_block_->attentions);
  decoder->register_module("mid_block", mid_block_);

  int64_t out = ch.back();
  const size_t levels = ch.size();
  for (size_t i = 0; i < levels; ++i) {
    const int64_t prev = out;
    out = ch[levels - 1 - i];
    UNetLevel level;
    for (int64_t j = 0; j <= config.layers_per_block; ++j) {
      level->resnets->push_back(
          ResnetBlock(j == 0 ? prev : out, out, 0, groups, kVaeEps));
    }
    level->register_module("resnets", level->resnets);
    if (i + 1 < levels) {
      level->samplers->push_back(Upsample(out));
      level->register_module("upsamplers", level->samplers);
    }
    up_blocks_->push_back(level);
  }
  decoder->register_module("up_blocks", up_blocks_);
  conv_norm_out_ = decoder->register_module(
      "conv_norm_out", MakeGroupNorm(groups, ch[0], kVaeEps));
  conv_out_ = decoder->register_module("conv_out",
                                       MakeConv(ch[0], config.out_channels, 3));
}

torch::Tensor VaeDecoderImpl::forward(const torch::Tensor& latents,
                                      Probes* probes) {
  torch::Tensor x = post_quant_conv_(latents);
  RecordProbe(probes, "post_quant_conv", x);
  x = conv_in_(x);
  RecordProbe(probes, "decoder.conv_in", x);
  x = mid_block_->resnets[0]->as<ResnetBlock>()->forward(x);
  x = mid_block_->attentions[0]->as<VaeAttention>()->forward(x);
  x = mid_block_->resnets[1]->as<ResnetBlock>()->forward(x);
  RecordProbe(probes, "decoder.mid_block", x);
  for (size_t i = 0; i < up_blocks_->size(); ++i) {
    auto& level = *up_blocks_[i]->as<UNetLevel>();
    for (const auto& resnet : *level.resnets) {
      x = resnet->as<ResnetBlock>()->forward(x);
    }
    if (!level.samplers->is_empty()) {
      x = level.samplers[0]->as<Upsample>()->forward(x);
    }
    RecordProbe(probes, "decoder.up_blocks." + std::to_string(i), x);
  }
  return conv_out_(torch::silu(conv_norm_out_(x)));
}

torch::Tensor VaeDecoderImpl::DecodeVideo(const torch::Tensor& latents,
                                          int64_t chunk) {
  const int64_t b = latents.size(0), c = latents.size(1), f = latents.size(2);
  // diffusers multiplies by the reciprocal rather than dividing.
  torch::Tensor z = (latents * (1.0 / config_.scaling_factor))
                        .to(post_quant_conv_->weight.scalar_type());
  z = z.permute({0, 2, 1, 3, 4})
          .reshape({b * f, c, latents.size(3), latents.size(4)});
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < b * f; start += std::max<int64_t>(chunk, 1)) {
    parts.push_back(
        forward(z.slice(0, start, start + std::max<int64_t>(chunk, 1))));
  }
  torch::Tensor video = torch::cat(parts, 0).to(torch::kFloat32);
  video = video.reshape({b, f, video.size(1), video.size(2), video.size(3)});
  return (video / 2 + 0.5).clamp(0, 1);
}

}  // namespace reelfarm::pipeline
