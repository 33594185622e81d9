#ifndef REELFARM_NODE_PIPELINE_VIDEO_FREE_NOISE_H_
#define REELFARM_NODE_PIPELINE_VIDEO_FREE_NOISE_H_

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>

namespace reelfarm::pipeline {

// FreeNoise noise rescheduling, diffusers' noise_type="shuffle_context":
// for i = length, length + stride, ... < frames, the `stride` frames
// starting at i take the noise of frames [i - length, i - length + stride)
// in an order drawn with torch.randperm on `generator`, in place and in
// that order (later blocks may copy already-shuffled frames). Windows then
// see correlated noise, which keeps long videos coherent. `noise` is
// (B, C, F, H, W); videos of at most `length` frames are left as they are.
void ShuffleNoiseInWindows(torch::Tensor& noise, int64_t length, int64_t stride,
                           at::Generator& generator);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_VIDEO_FREE_NOISE_H_
