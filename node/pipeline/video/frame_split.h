#ifndef REELFARM_NODE_PIPELINE_VIDEO_FRAME_SPLIT_H_
#define REELFARM_NODE_PIPELINE_VIDEO_FRAME_SPLIT_H_

// Frame-split mode: one window's frames are spread over the ranks of a
// communicator, each rank holding a contiguous slice of the frame axis.
// Per-frame layers run on the slice alone; a motion module's GroupNorm
// all-reduces its statistics and its temporal attentions all-gather their
// keys/values, so every rank computes its frames as the unsplit UNet would.

#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/pipeline/comm/communicator.h"

namespace reelfarm::pipeline {

// A rank's part of a frame-split window. Every rank of `comm` calls the
// UNet with the same batch, size and steps, holding its slice of frames
// [frame_offset, frame_offset + slice) of the window's `total_frames`, as
// FrameSliceOf lays them out.
struct FrameSplit {
  comm::Communicator* comm = nullptr;
  int64_t frame_offset = 0;
  int64_t total_frames = 0;
};

struct FrameSlice {
  int64_t offset = 0;
  int64_t count = 0;
};

// Rank `rank` of `ranks` gets `total / ranks` frames, the first
// `total % ranks` ranks one more; slices are contiguous, in rank order.
FrameSlice FrameSliceOf(int64_t total, int ranks, int rank);

// The FrameSplit for `comm`'s rank of a window of `total_frames`.
FrameSplit MakeFrameSplit(comm::Communicator* comm, int64_t total_frames);

// torch GroupNorm over (B, C, f, H, W) slices whose statistics span all
// ranks' frames: per-group sums and sums of squares (in float64) are
// all-reduced, then each rank normalises with the global mean and biased
// variance, `norm`'s eps and affine.
absl::StatusOr<torch::Tensor> SplitGroupNorm(
    const torch::nn::GroupNormImpl& norm, const torch::Tensor& x,
    const FrameSplit& split);

// All ranks' slices of `x` (frames along `dim`) joined in frame order: the
// whole window's frames on every rank.
absl::StatusOr<torch::Tensor> GatherFrames(const torch::Tensor& x, int64_t dim,
                                           const FrameSplit& split);

// Throws a c10::Error carrying `status` when it is not OK; for module
// forwards, which report failure by exception.
torch::Tensor ValueOrThrow(absl::StatusOr<torch::Tensor> result);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_VIDEO_FRAME_SPLIT_H_
