#include "node/pipeline/video/context_windows.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace reelfarm::pipeline {

absl::StatusOr<ContextFuse> ParseContextFuse(absl::string_view name) {
  if (name == "pyramid") return ContextFuse::kPyramid;
  if (name == "flat") return ContextFuse::kFlat;
  return absl::InvalidArgumentError(absl::StrCat(
      "context_fuse must be pyramid or flat, got '", std::string(name), "'"));
}

absl::Status CheckContextOptions(const ContextOptions& o) {
  if (o.length < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("context_length must be at least 1, got ", o.length));
  }
  if (o.stride < 1 || o.stride > o.length) {
    // A stride past the length would leave frames no window covers.
    return absl::InvalidArgumentError(
        absl::StrCat("context_stride must be from 1 to context_length (",
                     o.length, "), got ", o.stride));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::vector<int64_t>>> ContextWindows(
    int64_t frames, const ContextOptions& options) {
  if (absl::Status st = CheckContextOptions(options); !st.ok()) return st;
  if (frames < 1) {
    return absl::InvalidArgumentError("frames must be at least 1");
  }
  const int64_t length = options.length;
  auto run = [](int64_t start, int64_t count, int64_t modulo) {
    std::vector<int64_t> w(count);
    for (int64_t k = 0; k < count; ++k) w[k] = (start + k) % modulo;
    return w;
  };
  std::vector<std::vector<int64_t>> windows;
  if (frames <= length) {
    windows.push_back(run(0, frames, frames));
    return windows;
  }
  if (options.loop) {
    for (int64_t start = 0; start < frames; start += options.stride) {
      windows.push_back(run(start, length, frames));
    }
    return windows;
  }
  int64_t start = 0;
  for (; start + length <= frames; start += options.stride) {
    windows.push_back(run(start, length, frames));
  }
  if (windows.back().back() != frames - 1) {
    windows.push_back(run(frames - length, length, frames));
  }
  return windows;
}

std::vector<float> WindowWeights(int64_t length, ContextFuse fuse) {
  std::vector<float> w(length, 1.0f);
  if (fuse == ContextFuse::kFlat) return w;
  // diffusers' pyramid: 4 -> 1 2 2 1, 5 -> 1 2 3 2 1.
  for (int64_t i = 0; i < length; ++i) {
    w[i] = static_cast<float>(std::min(i + 1, length - i));
  }
  return w;
}

std::vector<int64_t> WindowsForRank(int64_t window_count, int rank, int ranks,
                                    WindowAssignment assignment) {
  std::vector<int64_t> mine;
  if (assignment == WindowAssignment::kRoundRobin) {
    for (int64_t i = rank; i < window_count; i += ranks) mine.push_back(i);
    return mine;
  }
  // Contiguous: the first (count % ranks) ranks take one extra window.
  const int64_t base = window_count / ranks, extra = window_count % ranks;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  const int64_t end = begin + base + (rank < extra ? 1 : 0);
  for (int64_t i = begin; i < end; ++i) mine.push_back(i);
  return mine;
}

}  // namespace reelfarm::pipeline
