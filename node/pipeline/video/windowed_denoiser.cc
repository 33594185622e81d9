#include "node/pipeline/video/windowed_denoiser.h"

#include <torch/torch.h>

namespace reelfarm::pipeline {

absl::StatusOr<WindowedDenoiser> WindowedDenoiser::Create(
    int64_t frames, const ContextOptions& options, comm::Communicator* comm) {
  absl::StatusOr<std::vector<std::vector<int64_t>>> windows =
      ContextWindows(frames, options);
  if (!windows.ok()) return windows.status();
  WindowedDenoiser d;
  d.windows_ = *std::move(windows);
  d.comm_ = comm;
  const int ranks = comm == nullptr ? 1 : comm->size();
  const int rank = comm == nullptr ? 0 : comm->rank();
  d.mine_ = WindowsForRank(d.window_count(), rank, ranks, options.assignment);
  const int64_t length = static_cast<int64_t>(d.windows_.front().size());
  d.weights_ = WindowWeights(length, options.fuse);
  // Every rank knows the whole schedule, so the weight sums need no
  // communication; summed in window order as one device would.
  d.weight_sums_ = torch::zeros({frames}, torch::kFloat32);
  torch::Tensor w = torch::tensor(d.weights_, torch::kFloat32);
  for (const std::vector<int64_t>& window : d.windows_) {
    d.weight_sums_.index_add_(0, torch::tensor(window, torch::kLong), w);
  }
  return d;
}

absl::StatusOr<torch::Tensor> WindowedDenoiser::Predict(
    const torch::Tensor& input, const NoisePredictor& predict) const {
  const bool group = comm_ != nullptr && comm_->size() > 1;
  if (windows_.size() == 1) {
    if (!group) return predict(input);
    // One window: rank 0 computes it and the others receive it, so the
    // result is exactly the unwindowed prediction on every rank.
    torch::Tensor out;
    if (comm_->rank() == 0) {
      out = predict(input).contiguous();
    } else {
      out = torch::empty_like(input, torch::kFloat32);
    }
    if (absl::Status st = comm_->Broadcast(out, 0); !st.ok()) return st;
    return out;
  }
  const torch::Device device = input.device();
  torch::Tensor sums = torch::zeros_like(input, torch::kFloat32);
  torch::Tensor weights = torch::tensor(weights_, torch::kFloat32)
                              .to(device)
                              .view({1, 1, -1, 1, 1});
  for (int64_t i : mine_) {
    torch::Tensor index = torch::tensor(windows_[i], torch::kLong).to(device);
    torch::Tensor pred = predict(input.index_select(2, index));
    sums.index_add_(2, index, pred * weights);
  }
  if (group) {
    if (absl::Status st = comm_->AllReduceSum(sums); !st.ok()) return st;
  }
  return sums / weight_sums_.to(device).view({1, 1, -1, 1, 1});
}

}  // namespace reelfarm::pipeline
