#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_MOTION_MODULE_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_MOTION_MODULE_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "node/pipeline/video/frame_split.h"
#include "node/pipeline/animatediff/unet_config.h"

namespace reelfarm::pipeline {

// AnimateDiff's sinusoidal frame embedding, (1, max_len, dim), computed in
// float32 as diffusers does (a checkpoint's stored copy is ignored).
torch::Tensor FramePositionalEncoding(int64_t dim, int64_t max_len);

// A motion module (diffusers' AnimateDiffTransformer3D): attention along the
// frame axis at every pixel. GroupNorm statistics span all frames (diffusers'
// semantics; guoyww's original normalises each frame on its own).
class MotionModuleImpl : public torch::nn::Module {
 public:
  MotionModuleImpl(int64_t channels, const MotionConfig& config);
  // x: (batch*frames, C, H, W), frame-minor. With `split`, x holds this
  // rank's `frames` of a frame-split window (see frame_split.h); throws
  // c10::Error when a collective fails.
  torch::Tensor forward(const torch::Tensor& x, int64_t frames,
                        const FrameSplit* split = nullptr);

 private:
  torch::nn::GroupNorm norm_{nullptr};
  torch::nn::Linear proj_in_{nullptr}, proj_out_{nullptr};
  torch::nn::ModuleList transformer_blocks_;
};
TORCH_MODULE(MotionModule);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_MOTION_MODULE_H_
