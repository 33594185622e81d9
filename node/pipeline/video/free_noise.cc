#include "node/pipeline/video/free_noise.h"

#include <torch/torch.h>

#include <algorithm>

namespace reelfarm::pipeline {

void ShuffleNoiseInWindows(torch::Tensor& noise, int64_t length, int64_t stride,
                           at::Generator& generator) {
  const int64_t frames = noise.size(2);
  for (int64_t i = length; i < frames; i += stride) {
    const int64_t window_start = std::max<int64_t>(0, i - length);
    const int64_t window_end = std::min(frames, window_start + stride);
    const int64_t window_length = window_end - window_start;
    if (window_length <= 0) break;
    torch::Tensor order =
        torch::arange(window_start, window_end, torch::kLong)
            .index_select(
                0, torch::randperm(window_length, generator, torch::kLong));
    const int64_t current_end = std::min(frames, i + window_length);
    // The last block may be shorter than the stride: take a prefix.
    order = order.slice(0, 0, current_end - i);
    noise.slice(2, i, current_end)
        .copy_(noise.index_select(2, order.to(noise.device())));
  }
}

}  // namespace reelfarm::pipeline
