#include "node/pipeline/schedulers/euler.h"

#include <torch/torch.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/pipeline/schedulers/numpy_compat.h"
#include "node/pipeline/schedulers/step_utils.h"

namespace reelfarm::pipeline {
namespace {

absl::Status CheckOneOf(absl::string_view cls, absl::string_view key,
                        const std::string& value,
                        std::initializer_list<const char*> allowed) {
  std::string names;
  for (const char* a : allowed) {
    if (value == a) return absl::OkStatus();
    absl::StrAppend(&names, names.empty() ? "" : ", ", a);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(cls, ": unknown ", key, " '", value, "' (", names, ")"));
}

// Float32 rounding of float64 values, as numpy's astype(np.float32).
std::vector<double> AsFloat32(std::vector<double> v) {
  for (double& x : v) x = static_cast<float>(x);
  return v;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EulerScheduler>> EulerScheduler::Create(
    const SchedulerConfig& config, bool ancestral) {
  const char* cls =
      ancestral ? "EulerAncestralDiscreteScheduler" : "EulerDiscreteScheduler";
  SchedulerConfig c = config;
  if (ancestral) {
    // That class has none of these options: it behaves like the defaults.
    c.interpolation_type = "linear";
    c.use_karras_sigmas = false;
    c.timestep_type = "discrete";
    c.final_sigmas_type = "zero";
  }
  for (absl::Status s : {
           CheckOneOf(
               cls, "prediction_type", c.prediction_type,
               ancestral
                   ? std::initializer_list<const char*>{"epsilon",
                                                        "v_prediction"}
                   : std::initializer_list<const char*>{"epsilon",
                                                        "v_prediction",
                                                        "sample",
                                                        "original_sample"}),
           CheckOneOf(cls, "interpolation_type", c.interpolation_type,
                      {"linear", "log_linear"}),
           CheckOneOf(cls, "timestep_type", c.timestep_type,
                      {"discrete", "continuous"}),
           CheckOneOf(cls, "final_sigmas_type", c.final_sigmas_type,
                      {"zero", "sigma_min"}),
       }) {
    if (!s.ok()) return s;
  }
  auto spacing = ParseTimestepSpacing(c.timestep_spacing.value_or("linspace"));
  if (!spacing.ok()) return spacing.status();
  auto schedule = MakeNoiseSchedule(c, /*pin_zero_snr_alpha=*/true);
  if (!schedule.ok()) return schedule.status();
  return std::unique_ptr<EulerScheduler>(
      new EulerScheduler(*std::move(schedule), c, *spacing, ancestral));
}

EulerScheduler::EulerScheduler(NoiseSchedule schedule,
                               const SchedulerConfig& config,
                               TimestepSpacing spacing, bool ancestral)
    : Scheduler(std::move(schedule)),
      config_(config),
      spacing_(spacing),
      ancestral_(ancestral) {}

absl::Status EulerScheduler::SetTimesteps(int64_t num_inference_steps) {
  const int64_t t = config_.num_train_timesteps;
  if (num_inference_steps < 1 || num_inference_steps > t) {
    return absl::InvalidArgumentError(absl::StrCat(
        class_name(), ": num_inference_steps must be in [1, ",
        "num_train_timesteps = ", t, "], got ", num_inference_steps));
  }
  auto status = step_utils::CatchTorch(
      class_name(), [&] { return ComputeSchedule(num_inference_steps); });
  if (!status.ok()) return status.status();
  return *status;
}

absl::Status EulerScheduler::ComputeSchedule(int64_t n) {
  const int64_t t = config_.num_train_timesteps;
  // np.float32 timesteps: linspace is computed in float64 and rounded.
  std::vector<double> timesteps = SpacedTimesteps(
      spacing_, t, n, config_.steps_offset, t, /*trailing_divisor=*/n);
  if (static_cast<int64_t>(timesteps.size()) != n ||
      *std::min_element(timesteps.begin(), timesteps.end()) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        class_name(), ": ", n,
        " steps with this timestep_spacing hit "
        "diffusers' arange rounding quirk (a timestep below 0); choose "
        "another count"));
  }
  timesteps = AsFloat32(std::move(timesteps));

  const torch::Tensor training_sigmas =
      TrainingSigmas(schedule_.alphas_cumprod);
  const std::vector<double> table = ToDoubles(training_sigmas);
  std::vector<double> sigmas;
  if (config_.interpolation_type == "linear") {
    std::vector<double> xp(table.size());
    for (size_t i = 0; i < xp.size(); ++i) xp[i] = static_cast<double>(i);
    sigmas = numpy_compat::Interp(timesteps, xp, table);
  } else {  // log_linear: n + 1 float32 points, as diffusers (sic) has it
    const double lo = std::log(static_cast<float>(table.back()));
    const double hi = std::log(static_cast<float>(table.front()));
    sigmas = ToDoubles(torch::linspace(static_cast<float>(lo),
                                       static_cast<float>(hi), n + 1,
                                       torch::dtype(torch::kFloat32))
                           .exp());
  }
  if (config_.use_karras_sigmas) {
    const double sigma_min = config_.sigma_min.value_or(sigmas.back());
    const double sigma_max = config_.sigma_max.value_or(sigmas.front());
    sigmas = KarrasSigmas(sigma_min, sigma_max, n);
    const std::vector<float> log_sigmas = LogSigmas(training_sigmas);
    timesteps.clear();
    for (double s : sigmas) {
      timesteps.push_back(static_cast<float>(SigmaToT(s, log_sigmas)));
    }
  }
  double sigma_last = 0;
  if (config_.final_sigmas_type == "sigma_min") {
    const torch::Tensor a0 = schedule_.alphas_cumprod[0];
    sigma_last = ((1 - a0) / a0).pow(0.5).item<double>();
  }
  sigmas.push_back(sigma_last);
  sigmas_ = ToTensor(sigmas, torch::kFloat32);

  if (config_.timestep_type == "continuous" &&
      config_.prediction_type == "v_prediction") {
    timesteps_ = sigmas_.slice(0, 0, sigmas_.size(0) - 1).log() * 0.25;
  } else {
    timesteps_ = ToTensor(timesteps, torch::kFloat32);
  }

  const torch::Tensor max_sigma = sigmas_.max();
  init_noise_sigma_ = spacing_ == TimestepSpacing::kLeading
                          ? (max_sigma.pow(2) + 1).pow(0.5).item<double>()
                          : max_sigma.item<double>();
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> EulerScheduler::ScaleModelInput(
    const torch::Tensor& sample, int64_t step_index) {
  absl::Status s = step_utils::CheckStepArgs(class_name(), step_index,
                                             num_steps(), sample, nullptr);
  if (!s.ok()) return s;
  return step_utils::CatchTorch(class_name(), [&] {
    const torch::Tensor sigma = sigmas_[step_index];
    return sample / (sigma.pow(2) + 1).pow(0.5);
  });
}

torch::Tensor EulerScheduler::PredictOriginal(
    const torch::Tensor& model_output, const torch::Tensor& sample,
    const torch::Tensor& sigma) const {
  if (config_.prediction_type == "epsilon") {
    return sample - sigma * model_output;
  }
  if (config_.prediction_type == "v_prediction") {
    return model_output * (-sigma / (sigma.pow(2) + 1).pow(0.5)) +
           (sample / (sigma.pow(2) + 1));
  }
  return model_output;  // sample / original_sample
}

absl::StatusOr<SchedulerStepOutput> EulerScheduler::Step(
    const torch::Tensor& model_output, int64_t step_index,
    const torch::Tensor& sample, at::Generator* generator) {
  absl::Status s = step_utils::CheckStepArgs(
      class_name(), step_index, num_steps(), sample, &model_output);
  if (!s.ok()) return s;
  return step_utils::CatchTorch(class_name(), [&] {
    const torch::Tensor x = sample.to(torch::kFloat32);
    const torch::Tensor sigma = sigmas_[step_index];
    const torch::Tensor sigma_next = sigmas_[step_index + 1];
    SchedulerStepOutput out;
    if (!ancestral_) {
      // s_churn = 0: gamma = 0, sigma_hat = sigma, and the noise diffusers
      // draws every step is multiplied away; draw it only to keep a shared
      // generator in step.
      if (generator != nullptr) {
        step_utils::RandnLike(model_output, generator,
                              model_output.scalar_type());
      }
      const torch::Tensor sigma_hat = sigma * 1.0;
      out.pred_original_sample = PredictOriginal(model_output, x, sigma_hat);
      const torch::Tensor derivative =
          (x - out.pred_original_sample) / sigma_hat;
      const torch::Tensor dt = sigma_next - sigma_hat;
      out.prev_sample = (x + derivative * dt).to(model_output.scalar_type());
      return out;
    }
    out.pred_original_sample = PredictOriginal(model_output, x, sigma);
    const torch::Tensor sigma_up =
        (sigma_next.pow(2) * (sigma.pow(2) - sigma_next.pow(2)) / sigma.pow(2))
            .pow(0.5);
    const torch::Tensor sigma_down =
        (sigma_next.pow(2) - sigma_up.pow(2)).pow(0.5);
    const torch::Tensor derivative = (x - out.pred_original_sample) / sigma;
    const torch::Tensor dt = sigma_down - sigma;
    torch::Tensor prev = x + derivative * dt;
    const torch::Tensor noise = step_utils::RandnLike(
        model_output, generator, model_output.scalar_type());
    prev = prev + noise * sigma_up;
    out.prev_sample = prev.to(model_output.scalar_type());
    return out;
  });
}

}  // namespace reelfarm::pipeline
