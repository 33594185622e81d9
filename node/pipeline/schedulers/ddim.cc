#include "node/pipeline/schedulers/ddim.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "node/pipeline/schedulers/numpy_compat.h"
#include "node/pipeline/schedulers/step_utils.h"

namespace reelfarm::pipeline {

absl::StatusOr<std::unique_ptr<DdimScheduler>> DdimScheduler::Create(
    const SchedulerConfig& config, double eta) {
  const std::string& p = config.prediction_type;
  if (p != "epsilon" && p != "sample" && p != "v_prediction") {
    return absl::InvalidArgumentError(
        absl::StrCat("DDIMScheduler: unknown prediction_type '", p,
                     "' (epsilon, sample, v_prediction)"));
  }
  if (!(eta >= 0)) {
    return absl::InvalidArgumentError("DDIMScheduler: eta must be >= 0");
  }
  auto spacing =
      ParseTimestepSpacing(config.timestep_spacing.value_or("leading"));
  if (!spacing.ok()) return spacing.status();
  auto schedule = MakeNoiseSchedule(config, /*pin_zero_snr_alpha=*/false);
  if (!schedule.ok()) return schedule.status();
  return std::unique_ptr<DdimScheduler>(
      new DdimScheduler(*std::move(schedule), config, *spacing, eta));
}

DdimScheduler::DdimScheduler(NoiseSchedule schedule,
                             const SchedulerConfig& config,
                             TimestepSpacing spacing, double eta)
    : Scheduler(std::move(schedule)),
      config_(config),
      spacing_(spacing),
      eta_(eta) {
  final_alpha_cumprod_ = config.set_alpha_to_one.value_or(true)
                             ? torch::tensor(1.0f)
                             : schedule_.alphas_cumprod[0];
}

absl::Status DdimScheduler::SetTimesteps(int64_t num_inference_steps) {
  const int64_t t = config_.num_train_timesteps;
  if (num_inference_steps < 1 || num_inference_steps > t) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DDIMScheduler: num_inference_steps must be in [1, ",
        "num_train_timesteps = ", t, "], got ", num_inference_steps));
  }
  std::vector<double> values =
      SpacedTimesteps(spacing_, t, num_inference_steps, config_.steps_offset, t,
                      num_inference_steps);
  std::vector<int64_t> steps;
  for (double v : values) {
    const auto step = static_cast<int64_t>(numpy_compat::Round(v));
    // numpy's arange can overshoot by one point for trailing spacing (e.g.
    // N = 61), giving timestep -1 in diffusers, which would index the
    // noisiest alpha. Refuse rather than reproduce that.
    if (step < 0 || step >= t) {
      return absl::InvalidArgumentError(absl::StrCat(
          "DDIMScheduler: ", num_inference_steps,
          " steps with this timestep_spacing give timestep ", step,
          " outside [0, ", t, ") (diffusers quirk); choose another count"));
    }
    steps.push_back(step);
  }
  num_inference_steps_ = num_inference_steps;
  timesteps_ = torch::tensor(steps, torch::dtype(torch::kInt64));
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> DdimScheduler::ScaleModelInput(
    const torch::Tensor& sample, int64_t step_index) {
  absl::Status s = step_utils::CheckStepArgs("DDIMScheduler", step_index,
                                             num_steps(), sample, nullptr);
  if (!s.ok()) return s;
  return sample;
}

absl::StatusOr<SchedulerStepOutput> DdimScheduler::Step(
    const torch::Tensor& model_output, int64_t step_index,
    const torch::Tensor& sample, at::Generator* generator) {
  absl::Status s = step_utils::CheckStepArgs(
      "DDIMScheduler", step_index, num_steps(), sample, &model_output);
  if (!s.ok()) return s;
  return StepAtTimestep(model_output, timesteps_[step_index].item<int64_t>(),
                        sample, generator);
}

absl::StatusOr<SchedulerStepOutput> DdimScheduler::StepAtTimestep(
    const torch::Tensor& model_output, int64_t timestep,
    const torch::Tensor& sample, at::Generator* generator) {
  if (num_inference_steps_ == 0) {
    return absl::FailedPreconditionError(
        "DDIMScheduler: SetTimesteps was not called");
  }
  if (timestep < 0 || timestep >= config_.num_train_timesteps) {
    return absl::OutOfRangeError(
        absl::StrCat("DDIMScheduler: timestep ", timestep, " outside [0, ",
                     config_.num_train_timesteps, ")"));
  }
  return step_utils::CatchTorch("DDIMScheduler step", [&] {
    const int64_t prev_timestep =
        timestep - config_.num_train_timesteps / num_inference_steps_;
    // The per-step scalars are 0-dim float32 tensors, as in diffusers, so
    // every operation rounds exactly as there.
    const torch::Tensor alpha_prod_t = schedule_.alphas_cumprod[timestep];
    const torch::Tensor alpha_prod_t_prev =
        prev_timestep >= 0 ? schedule_.alphas_cumprod[prev_timestep]
                           : final_alpha_cumprod_;
    const torch::Tensor beta_prod_t = 1 - alpha_prod_t;

    torch::Tensor pred_original_sample;
    torch::Tensor pred_epsilon;
    if (config_.prediction_type == "epsilon") {
      pred_original_sample = (sample - beta_prod_t.pow(0.5) * model_output) /
                             alpha_prod_t.pow(0.5);
      pred_epsilon = model_output;
    } else if (config_.prediction_type == "sample") {
      pred_original_sample = model_output;
      pred_epsilon = (sample - alpha_prod_t.pow(0.5) * pred_original_sample) /
                     beta_prod_t.pow(0.5);
    } else {  // v_prediction
      pred_original_sample =
          alpha_prod_t.pow(0.5) * sample - beta_prod_t.pow(0.5) * model_output;
      pred_epsilon =
          alpha_prod_t.pow(0.5) * model_output + beta_prod_t.pow(0.5) * sample;
    }

    if (config_.thresholding) {
      pred_original_sample = step_utils::ThresholdSample(
          pred_original_sample, config_.dynamic_thresholding_ratio,
          config_.sample_max_value);
    } else if (config_.clip_sample.value_or(true)) {
      pred_original_sample = pred_original_sample.clamp(
          -config_.clip_sample_range, config_.clip_sample_range);
    }

    // sigma_t(eta) of DDIM's formula (16).
    const torch::Tensor beta_prod_t_prev = 1 - alpha_prod_t_prev;
    const torch::Tensor variance = (beta_prod_t_prev / beta_prod_t) *
                                   (1 - alpha_prod_t / alpha_prod_t_prev);
    const torch::Tensor std_dev_t = eta_ * variance.pow(0.5);

    const torch::Tensor pred_sample_direction =
        (1 - alpha_prod_t_prev - std_dev_t.pow(2)).pow(0.5) * pred_epsilon;
    torch::Tensor prev_sample =
        alpha_prod_t_prev.pow(0.5) * pred_original_sample +
        pred_sample_direction;
    if (eta_ > 0) {
      const torch::Tensor noise = step_utils::RandnLike(
          model_output, generator, model_output.scalar_type());
      prev_sample = prev_sample + std_dev_t * noise;
    }
    return SchedulerStepOutput{prev_sample, pred_original_sample};
  });
}

}  // namespace reelfarm::pipeline
