#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_UNET_MODEL_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_UNET_MODEL_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <map>
#include <optional>
#include <string>

#include "node/pipeline/video/frame_split.h"
#include "node/pipeline/animatediff/unet_config.h"

namespace reelfarm::pipeline {

// Intermediate activations by diffusers module name ("conv_in",
// "down_blocks.0", "mid_block", ...), for parity tests and debugging.
using Probes = std::map<std::string, torch::Tensor>;

// Records `t` under `name` when probes are asked for.
inline void RecordProbe(Probes* probes, const std::string& name,
                        const torch::Tensor& t) {
  if (probes != nullptr) (*probes)[name] = t;
}

// One level of the UNet: resnets, optional spatial attentions, optional
// motion modules, and a down- or upsampler. Children are named as in
// diffusers' *BlockMotion classes.
class UNetLevelImpl : public torch::nn::Module {
 public:
  torch::nn::ModuleList resnets, attentions, motion_modules, samplers;
};
TORCH_MODULE(UNetLevel);

// UNet2DConditionModel, or with a MotionConfig, diffusers' UNetMotionModel
// (AnimateDiff): the same UNet with a motion module after each attention
// (or resnet, in blocks without attention).
class UNetImpl : public torch::nn::Module {
 public:
  UNetImpl(const UNetConfig& config, std::optional<MotionConfig> motion);

  // sample: (B, C, F, H, W) with motion modules, (N, C, H, W) without;
  // timestep: a 0-d or (B,) tensor, integer or float; context: (B, 77, D).
  // Returns the noise prediction in the sample's layout. With `split`,
  // sample holds this rank's slice of the window's frames (a motion UNet
  // only; every rank of split->comm calls it together) and the result is
  // the unsplit prediction's matching slice.
  torch::Tensor forward(const torch::Tensor& sample,
                        const torch::Tensor& timestep,
                        const torch::Tensor& context, Probes* probes = nullptr,
                        const FrameSplit* split = nullptr);

  bool has_motion() const { return motion_.has_value(); }
  const UNetConfig& config() const { return config_; }

 private:
  torch::Tensor TimeEmbedding(const torch::Tensor& timesteps, Probes* probes);

  UNetConfig config_;
  std::optional<MotionConfig> motion_;
  torch::nn::Linear linear_1_{nullptr}, linear_2_{nullptr};
  torch::nn::Conv2d conv_in_{nullptr}, conv_out_{nullptr};
  torch::nn::GroupNorm conv_norm_out_{nullptr};
  torch::nn::ModuleList down_blocks_, up_blocks_;
  UNetLevel mid_block_{nullptr};
};
TORCH_MODULE(UNet);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_UNET_MODEL_H_
