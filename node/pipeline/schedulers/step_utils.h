#ifndef REELFARM_NODE_PIPELINE_SCHEDULERS_STEP_UTILS_H_
#define REELFARM_NODE_PIPELINE_SCHEDULERS_STEP_UTILS_H_

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <exception>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

// Pieces the scheduler steps share.
namespace reelfarm::pipeline::step_utils {

// diffusers' randn_tensor with a CPU generator: standard normal noise of
// `like`'s shape and dtype drawn on the CPU, then moved to `like`'s device,
// so the values do not depend on the device. A null generator uses the
// default CPU generator.
torch::Tensor RandnLike(const torch::Tensor& like, at::Generator* generator,
                        torch::ScalarType dtype);

// Imagen's dynamic thresholding of an x_0 prediction (diffusers'
// _threshold_sample): per batch item, clamp to the `ratio` quantile of |x|
// (at least 1, at most max_value) and divide by it.
torch::Tensor ThresholdSample(const torch::Tensor& sample, double ratio,
                              double max_value);

// Checks step_index against the schedule and that the tensors are usable.
absl::Status CheckStepArgs(absl::string_view scheduler, int64_t step_index,
                           int64_t num_steps, const torch::Tensor& sample,
                           const torch::Tensor* model_output);

// Runs `fn` (returning T), turning torch exceptions (c10::Error and others)
// into an InvalidArgument status: nothing throws across the scheduler API.
template <typename Fn>
auto CatchTorch(absl::string_view what, Fn&& fn)
    -> absl::StatusOr<decltype(fn())> {
  try {
    return std::forward<Fn>(fn)();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", e.what()));
  }
}

}  // namespace reelfarm::pipeline::step_utils

#endif  // REELFARM_NODE_PIPELINE_SCHEDULERS_STEP_UTILS_H_
