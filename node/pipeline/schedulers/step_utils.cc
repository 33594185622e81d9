#include "node/pipeline/schedulers/step_utils.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace reelfarm::pipeline::step_utils {

torch::Tensor RandnLike(const torch::Tensor& like, at::Generator* generator,
                        torch::ScalarType dtype) {
  c10::optional<at::Generator> gen;
  if (generator != nullptr) gen = *generator;
  torch::Tensor noise =
      torch::randn(like.sizes(), gen, torch::dtype(dtype).device(torch::kCPU));
  return noise.to(like.device());
}

torch::Tensor ThresholdSample(const torch::Tensor& sample, double ratio,
                              double max_value) {
  const torch::ScalarType dtype = sample.scalar_type();
  torch::Tensor x = sample;
  // Upcast for the quantile, as diffusers does for half types.
  if (dtype != torch::kFloat32 && dtype != torch::kFloat64)
    x = x.to(torch::kFloat32);
  const int64_t batch = x.size(0);
  x = x.reshape({batch, -1});
  torch::Tensor s = torch::quantile(x.abs(), ratio, /*dim=*/1);
  s = torch::clamp(s, 1, max_value).unsqueeze(1);
  x = torch::max(torch::min(x, s), -s) / s;
  return x.reshape(sample.sizes()).to(dtype);
}

absl::Status CheckStepArgs(absl::string_view scheduler, int64_t step_index,
                           int64_t num_steps, const torch::Tensor& sample,
                           const torch::Tensor* model_output) {
  if (num_steps == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(scheduler, ": SetTimesteps was not called"));
  }
  if (step_index < 0 || step_index >= num_steps) {
    return absl::OutOfRangeError(absl::StrCat(scheduler, ": step index ",
                                              step_index, " outside [0, ",
                                              num_steps, ")"));
  }
  if (!sample.defined() || !sample.is_floating_point()) {
    return absl::InvalidArgumentError(
        absl::StrCat(scheduler, ": sample must be a floating-point tensor"));
  }
  if (model_output != nullptr) {
    if (!model_output->defined() || !model_output->is_floating_point()) {
      return absl::InvalidArgumentError(absl::StrCat(
          scheduler, ": model output must be a floating-point tensor"));
    }
    if (model_output->sizes() != sample.sizes()) {
      return absl::InvalidArgumentError(
          absl::StrCat(scheduler,
                       ": model output shape does not match the "
                       "sample's"));
    }
  }
  return absl::OkStatus();
}

}  // namespace reelfarm::pipeline::step_utils
