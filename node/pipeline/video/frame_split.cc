#include "node/pipeline/video/frame_split.h"

#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace reelfarm::pipeline {

FrameSlice FrameSliceOf(int64_t total, int ranks, int rank) {
  const int64_t base = total / ranks, extra = total % ranks;
  return {rank * base + std::min<int64_t>(rank, extra),
          base + (rank < extra ? 1 : 0)};
}

FrameSplit MakeFrameSplit(comm::Communicator* comm, int64_t total_frames) {
  const FrameSlice slice =
      FrameSliceOf(total_frames, comm->size(), comm->rank());
  return {comm, slice.offset, total_frames};
}

absl::StatusOr<torch::Tensor> SplitGroupNorm(
    const torch::nn::GroupNormImpl& norm, const torch::Tensor& x,
    const FrameSplit& split) {
  const auto& options = norm.options;
  const int64_t b = x.size(0), c = x.size(1), groups = options.num_groups();
  if (x.dim() != 5 || c != options.num_channels() || c % groups != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("split GroupNorm wants (B, ", options.num_channels(),
                     ", F, H, W), got ", x.dim(), " dims"));
  }
  torch::Tensor grouped = x.to(torch::kFloat64).reshape({b, groups, -1});
  torch::Tensor stats = torch::stack(
      {grouped.sum(-1), grouped.square().sum(-1)});  // (2, B, groups)
  if (absl::Status st = split.comm->AllReduceSum(stats); !st.ok()) return st;
  const double count = static_cast<double>(c / groups * split.total_frames *
                                           x.size(3) * x.size(4));
  const torch::Tensor mean = (stats[0] / count).unsqueeze(-1);
  const torch::Tensor var = (stats[1] / count).unsqueeze(-1) - mean.square();
  torch::Tensor y = ((grouped - mean) * torch::rsqrt(var + options.eps()))
                        .reshape(x.sizes())
                        .to(x.scalar_type());
  if (options.affine()) {
    y = y * norm.weight.view({1, c, 1, 1, 1}) + norm.bias.view({1, c, 1, 1, 1});
  }
  return y;
}

absl::StatusOr<torch::Tensor> GatherFrames(const torch::Tensor& x, int64_t dim,
                                           const FrameSplit& split) {
  const int ranks = split.comm->size();
  // Slices may differ by one frame; exchange equal shapes, padded.
  const int64_t widest = FrameSliceOf(split.total_frames, ranks, 0).count;
  torch::Tensor local = x.movedim(dim, 0);
  if (local.size(0) < widest) {
    std::vector<int64_t> pad_shape = local.sizes().vec();
    pad_shape[0] = widest - local.size(0);
    local = torch::cat({local, local.new_zeros(pad_shape)});
  }
  local = local.contiguous();
  std::vector<int64_t> shape = local.sizes().vec();
  shape.insert(shape.begin(), ranks);
  torch::Tensor all = local.new_empty(shape);
  if (absl::Status st = split.comm->AllGather(local, all); !st.ok()) return st;
  std::vector<torch::Tensor> pieces;
  for (int r = 0; r < ranks; ++r) {
    pieces.push_back(
        all[r].slice(0, 0, FrameSliceOf(split.total_frames, ranks, r).count));
  }
  return torch::cat(pieces).movedim(0, dim);
}

torch::Tensor ValueOrThrow(absl::StatusOr<torch::Tensor> result) {
  TORCH_CHECK(result.ok(), result.status().ToString());
  return *std::move(result);
}

}  // namespace reelfarm::pipeline
