#ifndef REELFARM_NODE_PIPELINE_VIDEO_CONTEXT_WINDOWS_H_
#define REELFARM_NODE_PIPELINE_VIDEO_CONTEXT_WINDOWS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reelfarm::pipeline {

// How overlapping windows' predictions are weighted per frame.
enum class ContextFuse {
  kPyramid,  // diffusers' "pyramid": 1, 2, .., peak, .., 2, 1
  kFlat,     // every frame of a window weighs 1
};

// How a video's windows are dealt to the ranks of a device group.
enum class WindowAssignment {
  kRoundRobin,  // window i to rank i % N: balanced when windows differ
  kContiguous,  // consecutive windows per rank: neighbours share frames
};

// Context windows over the frame axis. Defaults are diffusers'
// enable_free_noise(context_length=16, context_stride=4, "pyramid").
struct ContextOptions {
  int64_t length = 16;  // frames per UNet call
  int64_t stride = 4;   // frames between window starts, 1..length
  ContextFuse fuse = ContextFuse::kPyramid;
  bool loop = false;        // windows wrap past the last frame to the first
  bool free_noise = false;  // FreeNoise: shuffle initial noise in windows
  WindowAssignment assignment = WindowAssignment::kRoundRobin;
};

absl::StatusOr<ContextFuse> ParseContextFuse(absl::string_view name);

// Errors when length or stride is out of range.
absl::Status CheckContextOptions(const ContextOptions& options);

// The frame indices of each window, in order. A video of at most `length`
// frames is one window of all its frames (the unwindowed pipeline). Else the
// windows start every `stride` frames; without loop a last window ends on
// the last frame when the stride does not land there (diffusers'
// FreeNoise), with loop there are ceil(frames / stride) windows of `length`
// frames, indices taken modulo `frames`.
absl::StatusOr<std::vector<std::vector<int64_t>>> ContextWindows(
    int64_t frames, const ContextOptions& options);

// Per-frame weights of a window of `length` frames.
std::vector<float> WindowWeights(int64_t length, ContextFuse fuse);

// The windows `rank` of `ranks` computes (indices into `window_count`).
std::vector<int64_t> WindowsForRank(int64_t window_count, int rank, int ranks,
                                    WindowAssignment assignment);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_VIDEO_CONTEXT_WINDOWS_H_
