#ifndef REELFARM_NODE_PIPELINE_VIDEO_WINDOWED_DENOISER_H_
#define REELFARM_NODE_PIPELINE_VIDEO_WINDOWED_DENOISER_H_

#include <torch/types.h>

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "node/pipeline/comm/communicator.h"
#include "node/pipeline/video/context_windows.h"

namespace reelfarm::pipeline {

// A noise prediction for (B, C, F, H, W) latents: the UNet at one timestep.
using NoisePredictor = std::function<torch::Tensor(const torch::Tensor&)>;

// One denoising step's noise prediction for a whole video, computed window
// by window: each UNet call sees one context window, and every frame's
// prediction is the weighted mean of the windows that cover it. With a
// communicator of N ranks each rank runs only its share of the windows and
// the weighted sums are all-reduced, so every rank ends with the same fused
// prediction. A video that is one window is predicted in one call, as the
// unwindowed pipeline does (bitwise the same).
class WindowedDenoiser {
 public:
  // `comm` may be null (one device); it must outlive the denoiser.
  static absl::StatusOr<WindowedDenoiser> Create(int64_t frames,
                                                 const ContextOptions& options,
                                                 comm::Communicator* comm);

  int64_t window_count() const { return static_cast<int64_t>(windows_.size()); }
  // The windows this rank computes, as indices into the schedule.
  const std::vector<int64_t>& my_windows() const { return mine_; }

  // `input` is float32 (B, C, F, H, W); `predict` returns float32 of the
  // same layout for a frame subset. Returns the fused prediction.
  absl::StatusOr<torch::Tensor> Predict(const torch::Tensor& input,
                                        const NoisePredictor& predict) const;

 private:
  WindowedDenoiser() = default;

  std::vector<std::vector<int64_t>> windows_;
  std::vector<int64_t> mine_;
  std::vector<float> weights_;
  torch::Tensor weight_sums_;  // (F,), over all windows
  comm::Communicator* comm_ = nullptr;
};

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_VIDEO_WINDOWED_DENOISER_H_
