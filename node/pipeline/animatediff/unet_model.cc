#include "node/pipeline/animatediff/unet_model.h"

#include <torch/torch.h>

#include <cmath>

#include "node/pipeline/animatediff/motion_module.h"
#include "node/pipeline/animatediff/unet_blocks.h"

namespace reelfarm::pipeline {
namespace {

void RegisterLevelLists(UNetLevelImpl& level, const char* sampler_name) {
  if (!level.resnets->is_empty()) {
    level.register_module("resnets", level.resnets);
  }
  if (!level.attentions->is_empty()) {
    level.register_module("attentions", level.attentions);
  }
  if (!level.motion_modules->is_empty()) {
    level.register_module("motion_modules", level.motion_modules);
  }
  if (!level.samplers->is_empty()) {
    level.register_module(sampler_name, level.samplers);
  }
}

}  // namespace

UNetImpl::UNetImpl(const UNetConfig& config, std::optional<MotionConfig> motion)
    : config_(config), motion_(motion) {
  const std::vector<int64_t>& ch = config.block_out_channels;
  const int64_t levels = ch.size();
  const int64_t temb = ch[0] * 4;
  const int64_t groups = config.norm_num_groups;
  const double eps = config.norm_eps;
  const int64_t ctx = config.cross_attention_dim;

  conv_in_ = register_module("conv_in", MakeConv(config.in_channels, ch[0], 3));
  auto time_embedding =
      register_module("time_embedding", std::make_shared<torch::nn::Module>());
  linear_1_ = time_embedding->register_module("linear_1",
                                              torch::nn::Linear(ch[0], temb));
  linear_2_ = time_embedding->register_module("linear_2",
                                              torch::nn::Linear(temb, temb));

  int64_t out = ch[0];
  for (int64_t i = 0; i < levels; ++i) {
    const int64_t in = out;
    out = ch[i];
    UNetLevel level;
    const bool cross = config.down_block_types[i] == "CrossAttnDownBlock2D";
    for (int64_t j = 0; j < config.layers_per_block; ++j) {
      level->resnets->push_back(
          ResnetBlock(j == 0 ? in : out, out, temb, groups, eps));
      if (cross) {
        level->attentions->push_back(
            SpatialTransformer(out, config.HeadsForDownBlock(i), ctx, groups));
      }
      if (motion_)
        level->motion_modules->push_back(MotionModule(out, *motion_));
    }
    if (i + 1 < levels) level->samplers->push_back(Downsample(out));
    RegisterLevelLists(*level, "downsamplers");
    down_blocks_->push_back(level);
  }
  register_module("down_blocks", down_blocks_);

  mid_block_ = UNetLevel();
  const int64_t mid = ch.back();
  mid_block_->resnets->push_back(ResnetBlock(mid, mid, temb, groups, eps));
  mid_block_->attentions->push_back(SpatialTransformer(
      mid, config.HeadsForDownBlock(levels - 1), ctx, groups));
  if (motion_ && motion_->use_mid_block) {
    mid_block_->motion_modules->push_back(MotionModule(mid, *motion_));
  }
  mid_block_->resnets->push_back(ResnetBlock(mid, mid, temb, groups, eps));
  RegisterLevelLists(*mid_block_, "");
  register_module("mid_block", mid_block_);

  out = ch.back();
  for (int64_t i = 0; i < levels; ++i) {
    const int64_t prev = out;
    out = ch[levels - 1 - i];
    const int64_t in = ch[std::max<int64_t>(levels - 2 - i, 0)];
    UNetLevel level;
    const bool cross = config.up_block_types[i] == "CrossAttnUpBlock2D";
    const int64_t layers = config.layers_per_block + 1;
    for (int64_t j = 0; j < layers; ++j) {
      const int64_t skip = j == layers - 1 ? in : out;
      const int64_t res_in = j == 0 ? prev : out;
      level->resnets->push_back(
          ResnetBlock(res_in + skip, out, temb, groups, eps));
      if (cross) {
        level->attentions->push_back(SpatialTransformer(
            out, config.HeadsForDownBlock(levels - 1 - i), ctx, groups));
      }
      if (motion_)
        level->motion_modules->push_back(MotionModule(out, *motion_));
    }
    if (i + 1 < levels) level->samplers->push_back(Upsample(out));
    RegisterLevelLists(*level, "upsamplers");
    up_blocks_->push_back(level);
  }
  register_module("up_blocks", up_blocks_);

  conv_norm_out_ =
      register_module("conv_norm_out", MakeGroupNorm(groups, ch[0], eps));
  conv_out_ =
      register_module("conv_out", MakeConv(ch[0], config.out_channels, 3));
}

torch::Tensor UNetImpl::TimeEmbedding(const torch::Tensor& timesteps,
                                      Probes* probes) {
  // diffusers' get_timestep_embedding, operation for operation.
  const int64_t half = config_.block_out_channels[0] / 2;
  torch::Tensor exponent =
      -std::log(10000.0) *
      torch::arange(0, half,
                    torch::dtype(torch::kFloat32).device(timesteps.device()));
  exponent = exponent / (static_cast<double>(half) - config_.freq_shift);
  torch::Tensor emb = timesteps.unsqueeze(1).to(torch::kFloat32) *
                      torch::exp(exponent).unsqueeze(0);
  emb = torch::cat({torch::sin(emb), torch::cos(emb)}, -1);
  if (config_.flip_sin_to_cos) {
    emb = torch::cat({emb.slice(1, half), emb.slice(1, 0, half)}, -1);
  }
  RecordProbe(probes, "time_proj", emb);
  // Computed in float32, then run in the weights' precision, as diffusers.
  emb = emb.to(linear_1_->weight.scalar_type());
  emb = linear_2_(torch::silu(linear_1_(emb)));
  RecordProbe(probes, "time_embedding", emb);
  return emb;
}

torch::Tensor UNetImpl::forward(const torch::Tensor& input,
                                const torch::Tensor& timestep,
                                const torch::Tensor& context, Probes* probes,
                                const FrameSplit* split) {
  const bool video = input.dim() == 5;
  TORCH_CHECK(video || !motion_, "a motion UNet takes (B, C, F, H, W)");
  TORCH_CHECK(split == nullptr || motion_, "frame split needs a motion UNet");
  const int64_t batch = input.size(0);
  const int64_t frames = video ? input.size(2) : 1;
  torch::Tensor sample = video ? input.permute({0, 2, 1, 3, 4})
                                     .reshape({batch * frames, input.size(1),
                                               input.size(3), input.size(4)})
                               : input;
  torch::Tensor t = timestep.dim() == 0 ? timestep.expand({batch}) : timestep;
  torch::Tensor temb = TimeEmbedding(t.to(input.device()), probes);
  torch::Tensor ctx = context;
  if (frames > 1) {
    temb = temb.repeat_interleave(frames, 0);
    ctx = ctx.repeat_interleave(frames, 0);
  }

  torch::Tensor x = conv_in_(sample);
  RecordProbe(probes, "conv_in", x);
  std::vector<torch::Tensor> skips = {x};
  for (size_t i = 0; i < down_blocks_->size(); ++i) {
    auto& level = *down_blocks_[i]->as<UNetLevel>();
    const std::string name = "down_blocks." + std::to_string(i);
    for (size_t j = 0; j < level.resnets->size(); ++j) {
      x = level.resnets[j]->as<ResnetBlock>()->forward(x, temb);
      RecordProbe(probes, name + ".resnets." + std::to_string(j), x);
      if (!level.attentions->is_empty()) {
        x = level.attentions[j]->as<SpatialTransformer>()->forward(x, ctx);
        RecordProbe(probes, name + ".attentions." + std::to_string(j), x);
      }
      if (!level.motion_modules->is_empty()) {
        x = level.motion_modules[j]->as<MotionModule>()->forward(x, frames,
                                                                 split);
        RecordProbe(probes, name + ".motion_modules." + std::to_string(j), x);
      }
      skips.push_back(x);
    }
    if (!level.samplers->is_empty()) {
      x = level.samplers[0]->as<Downsample>()->forward(x);
      skips.push_back(x);
    }
    RecordProbe(probes, name, x);
  }

  auto& mid = *mid_block_;
  x = mid.resnets[0]->as<ResnetBlock>()->forward(x, temb);
  x = mid.attentions[0]->as<SpatialTransformer>()->forward(x, ctx);
  if (!mid.motion_modules->is_empty()) {
    x = mid.motion_modules[0]->as<MotionModule>()->forward(x, frames, split);
  }
  x = mid.resnets[1]->as<ResnetBlock>()->forward(x, temb);
  RecordProbe(probes, "mid_block", x);

  for (size_t i = 0; i < up_blocks_->size(); ++i) {
    auto& level = *up_blocks_[i]->as<UNetLevel>();
    for (size_t j = 0; j < level.resnets->size(); ++j) {
      x = torch::cat({x, skips.back()}, 1);
      skips.pop_back();
      x = level.resnets[j]->as<ResnetBlock>()->forward(x, temb);
      if (!level.attentions->is_empty()) {
        x = level.attentions[j]->as<SpatialTransformer>()->forward(x, ctx);
      }
      if (!level.motion_modules->is_empty()) {
        x = level.motion_modules[j]->as<MotionModule>()->forward(x, frames,
                                                                 split);
      }
    }
    if (!level.samplers->is_empty()) {
      // Resize to the next skip's size: exact for any latent size.
      const torch::Tensor& next = skips.back();
      x = level.samplers[0]->as<Upsample>()->forward(
          x, std::vector<int64_t>{next.size(2), next.size(3)});
    }
    RecordProbe(probes, "up_blocks." + std::to_string(i), x);
  }

  x = conv_norm_out_(x);
  RecordProbe(probes, "conv_norm_out", x);
  x = conv_out_(torch::silu(x));
  if (!video) return x;
  return x.reshape({batch, frames, x.size(1), x.size(2), x.size(3)})
      .permute({0, 2, 1, 3, 4});
}

}  // namespace reelfarm::pipeline
