#include "node/pipeline/schedulers/dpm_solver_multistep.h"

#include <torch/torch.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/pipeline/schedulers/numpy_compat.h"
#include "node/pipeline/schedulers/step_utils.h"

namespace reelfarm::pipeline {
namespace {

constexpr char kName[] = "DPMSolverMultistepScheduler";

// VE sigma -> (alpha_t, sigma_t) of the VP process, in 0-dim float32 ops:
// alpha = 1 / sqrt(sigma^2 + 1) (Python's 1 / x is x.reciprocal()).
struct AlphaSigma {
  torch::Tensor alpha;
  torch::Tensor sigma;
  torch::Tensor lambda;  // log(alpha) - log(sigma)
};

AlphaSigma FromSigma(const torch::Tensor& ve_sigma) {
  AlphaSigma a;
  a.alpha = (ve_sigma.pow(2) + 1).pow(0.5).reciprocal();
  a.sigma = ve_sigma * a.alpha;
  a.lambda = torch::log(a.alpha) - torch::log(a.sigma);
  return a;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DpmSolverMultistepScheduler>>
DpmSolverMultistepScheduler::Create(const SchedulerConfig& config) {
  SchedulerConfig c = config;
  // diffusers maps the schedulers it can stand in for onto its own options.
  if (c.algorithm_type == "deis") c.algorithm_type = "dpmsolver++";
  if (c.solver_type == "logrho" || c.solver_type == "bh1" ||
      c.solver_type == "bh2") {
    c.solver_type = "midpoint";
  }
  auto bad = [](auto... parts) {
    return absl::InvalidArgumentError(absl::StrCat(kName, ": ", parts...));
  };
  const std::string& a = c.algorithm_type;
  if (a != "dpmsolver++" && a != "sde-dpmsolver++" && a != "dpmsolver" &&
      a != "sde-dpmsolver") {
    return bad("unknown algorithm_type '", a,
               "' (dpmsolver++, sde-dpmsolver++, dpmsolver, sde-dpmsolver)");
  }
  if (c.solver_type != "midpoint" && c.solver_type != "heun") {
    return bad("unknown solver_type '", c.solver_type, "' (midpoint, heun)");
  }
  if (c.solver_order < 1 || c.solver_order > 3) {
    return bad("solver_order must be 1, 2 or 3, got ", c.solver_order);
  }
  if (c.solver_order == 3 && (a == "sde-dpmsolver++" || a == "sde-dpmsolver")) {
    return bad("solver_order 3 is not defined for ", a);
  }
  const std::string& p = c.prediction_type;
  if (p != "epsilon" && p != "sample" && p != "v_prediction") {
    return bad("unknown prediction_type '", p,
               "' (epsilon, sample, v_prediction)");
  }
  if (c.final_sigmas_type != "zero" && c.final_sigmas_type != "sigma_min") {
    return bad("unknown final_sigmas_type '", c.final_sigmas_type,
               "' (zero, sigma_min)");
  }
  if (c.final_sigmas_type == "zero" && a != "dpmsolver++" &&
      a != "sde-dpmsolver++") {
    return bad("final_sigmas_type 'zero' needs a ++ algorithm_type");
  }
  if (c.use_karras_sigmas && c.use_lu_lambdas) {
    return bad("use_karras_sigmas and use_lu_lambdas are exclusive");
  }
  auto spacing = ParseTimestepSpacing(c.timestep_spacing.value_or("linspace"));
  if (!spacing.ok()) return spacing.status();
  auto schedule = MakeNoiseSchedule(c, /*pin_zero_snr_alpha=*/true);
  if (!schedule.ok()) return schedule.status();
  return std::unique_ptr<DpmSolverMultistepScheduler>(
      new DpmSolverMultistepScheduler(*std::move(schedule), c, *spacing));
}

DpmSolverMultistepScheduler::DpmSolverMultistepScheduler(
    NoiseSchedule schedule, const SchedulerConfig& config,
    TimestepSpacing spacing)
    : Scheduler(std::move(schedule)), config_(config), spacing_(spacing) {}

bool DpmSolverMultistepScheduler::IsPlusPlus() const {
  return config_.algorithm_type == "dpmsolver++" ||
         config_.algorithm_type == "sde-dpmsolver++";
}

bool DpmSolverMultistepScheduler::IsSde() const {
  return config_.algorithm_type == "sde-dpmsolver++" ||
         config_.algorithm_type == "sde-dpmsolver";
}

absl::Status DpmSolverMultistepScheduler::SetTimesteps(
    int64_t num_inference_steps) {
  const int64_t t = config_.num_train_timesteps;
  if (num_inference_steps < 1 || num_inference_steps > t) {
    return absl::InvalidArgumentError(absl::StrCat(
        kName, ": num_inference_steps must be in [1, num_train_timesteps = ", t,
        "], got ", num_inference_steps));
  }
  auto status = step_utils::CatchTorch(
      kName, [&] { return ComputeSchedule(num_inference_steps); });
  if (!status.ok()) return status.status();
  return *status;
}

absl::Status DpmSolverMultistepScheduler::ComputeSchedule(int64_t n) {
  const int64_t t = config_.num_train_timesteps;
  const torch::Tensor& ac = schedule_.alphas_cumprod;
  // The last timestep whose lambda is not below lambda_min_clipped:
  // searchsorted into the ascending flip of lambda_t.
  const std::vector<double> lambdas =
      ToDoubles(torch::log(torch::sqrt(ac)) - torch::log(torch::sqrt(1 - ac)));
  int64_t clipped_idx = 0;
  for (auto it = lambdas.rbegin(); it != lambdas.rend(); ++it) {
    if (*it < config_.lambda_min_clipped) ++clipped_idx;
  }
  const int64_t last_timestep = t - clipped_idx;
  if (last_timestep < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(kName, ": lambda_min_clipped leaves no timesteps"));
  }

  // linspace and leading take n + 1 points and drop the final one.
  std::vector<double> raw = SpacedTimesteps(spacing_, last_timestep, n + 1,
                                            config_.steps_offset, t, n);
  if (spacing_ != TimestepSpacing::kTrailing) raw.pop_back();
  std::vector<double> timesteps;
  for (double v : raw) timesteps.push_back(numpy_compat::Round(v));
  if (static_cast<int64_t>(timesteps.size()) != n ||
      *std::min_element(timesteps.begin(), timesteps.end()) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        kName, ": ", n,
        " steps with this timestep_spacing hit diffusers' "
        "arange rounding quirk (a timestep below 0); choose another count"));
  }

  const torch::Tensor training_sigmas = TrainingSigmas(ac);
  const std::vector<double> table = ToDoubles(training_sigmas);
  std::vector<double> sigmas;
  if (config_.use_karras_sigmas || config_.use_lu_lambdas) {
    const std::vector<float> log_sigmas = LogSigmas(training_sigmas);
    if (config_.use_karras_sigmas) {
      sigmas = KarrasSigmas(config_.sigma_min.value_or(table.front()),
                            config_.sigma_max.value_or(table.back()), n);
    } else {
      // Lu et al.'s uniform-lambda grid (rho = 1) over the log sigmas.
      const std::vector<double> ramp = numpy_compat::Linspace(0, 1, n);
      const double lo = log_sigmas.front();
      const double hi = log_sigmas.back();
      for (double r : ramp) sigmas.push_back(std::exp(hi + r * (lo - hi)));
    }
    timesteps.clear();
    for (double s : sigmas) {
      timesteps.push_back(numpy_compat::Round(SigmaToT(s, log_sigmas)));
    }
  } else {
    std::vector<double> xp(table.size());
    for (size_t i = 0; i < xp.size(); ++i) xp[i] = static_cast<double>(i);
    sigmas = numpy_compat::Interp(timesteps, xp, table);
  }
  double sigma_last = 0;
  if (config_.final_sigmas_type == "sigma_min") {
    sigma_last = ((1 - ac[0]) / ac[0]).pow(0.5).item<double>();
  }
  sigmas.push_back(sigma_last);
  sigmas_ = ToTensor(sigmas, torch::kFloat32);
  timesteps_ = ToTensor(timesteps, torch::kInt64);

  model_outputs_.assign(config_.solver_order, torch::Tensor());
  lower_order_nums_ = 0;
  next_step_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> DpmSolverMultistepScheduler::ScaleModelInput(
    const torch::Tensor& sample, int64_t step_index) {
  absl::Status s = step_utils::CheckStepArgs(kName, step_index, num_steps(),
                                             sample, nullptr);
  if (!s.ok()) return s;
  return sample;
}

torch::Tensor DpmSolverMultistepScheduler::ConvertModelOutput(
    const torch::Tensor& model_output, const torch::Tensor& sample,
    int64_t i) const {
  const std::string& p = config_.prediction_type;
  const bool learned = config_.variance_type == "learned" ||
                       config_.variance_type == "learned_range";
  const AlphaSigma s = FromSigma(sigmas_[i]);
  if (IsPlusPlus()) {
    torch::Tensor x0;
    if (p == "epsilon") {
      const torch::Tensor eps =
          learned ? model_output.slice(1, 0, 3) : model_output;
      x0 = (sample - s.sigma * eps) / s.alpha;
    } else if (p == "sample") {
      x0 = model_output;
    } else {
      x0 = s.alpha * sample - s.sigma * model_output;
    }
    if (config_.thresholding) {
      x0 = step_utils::ThresholdSample(x0, config_.dynamic_thresholding_ratio,
                                       config_.sample_max_value);
    }
    return x0;
  }
  torch::Tensor eps;
  if (p == "epsilon") {
    eps = learned ? model_output.slice(1, 0, 3) : model_output;
  } else if (p == "sample") {
    eps = (sample - s.alpha * model_output) / s.sigma;
  } else {
    eps = s.alpha * model_output + s.sigma * sample;
  }
  if (config_.thresholding) {
    torch::Tensor x0 = (sample - s.sigma * eps) / s.alpha;
    x0 = step_utils::ThresholdSample(x0, config_.dynamic_thresholding_ratio,
                                     config_.sample_max_value);
    eps = (sample - s.alpha * x0) / s.sigma;
  }
  return eps;
}

torch::Tensor DpmSolverMultistepScheduler::FirstOrder(
    const torch::Tensor& m, const torch::Tensor& x, const torch::Tensor& noise,
    int64_t i) const {
  const AlphaSigma t = FromSigma(sigmas_[i + 1]);
  const AlphaSigma s = FromSigma(sigmas_[i]);
  const torch::Tensor h = t.lambda - s.lambda;
  const std::string& a = config_.algorithm_type;
  if (a == "dpmsolver++") {
    return (t.sigma / s.sigma) * x - (t.alpha * (torch::exp(-h) - 1.0)) * m;
  }
  if (a == "dpmsolver") {
    return (t.alpha / s.alpha) * x - (t.sigma * (torch::exp(h) - 1.0)) * m;
  }
  if (a == "sde-dpmsolver++") {
    return (t.sigma / s.sigma * torch::exp(-h)) * x +
           (t.alpha * (1 - torch::exp(-2.0 * h))) * m +
           t.sigma * torch::sqrt(1.0 - torch::exp(-2 * h)) * noise;
  }
  return (t.alpha / s.alpha) * x - 2.0 * (t.sigma * (torch::exp(h) - 1.0)) * m +
         t.sigma * torch::sqrt(torch::exp(2 * h) - 1.0) * noise;
}

torch::Tensor DpmSolverMultistepScheduler::SecondOrder(
    const torch::Tensor& x, const torch::Tensor& noise, int64_t i) const {
  const AlphaSigma t = FromSigma(sigmas_[i + 1]);
  const AlphaSigma s0 = FromSigma(sigmas_[i]);
  const AlphaSigma s1 = FromSigma(sigmas_[i - 1]);
  const torch::Tensor& m0 = model_outputs_.back();
  const torch::Tensor& m1 = model_outputs_[model_outputs_.size() - 2];
  const torch::Tensor h = t.lambda - s0.lambda;
  const torch::Tensor h_0 = s0.lambda - s1.lambda;
  const torch::Tensor r0 = h_0 / h;
  const torch::Tensor& d0 = m0;
  // Python's 1.0 / r0 is r0.reciprocal() * 1.0.
  const torch::Tensor d1 = r0.reciprocal() * (m0 - m1);
  const bool midpoint = config_.solver_type == "midpoint";
  const std::string& a = config_.algorithm_type;
  if (a == "dpmsolver++") {
    const torch::Tensor c = t.alpha * (torch::exp(-h) - 1.0);
    if (midpoint) return (t.sigma / s0.sigma) * x - c * d0 - 0.5 * c * d1;
    return (t.sigma / s0.sigma) * x - c * d0 +
           (t.alpha * ((torch::exp(-h) - 1.0) / h + 1.0)) * d1;
  }
  if (a == "dpmsolver") {
    const torch::Tensor c = t.sigma * (torch::exp(h) - 1.0);
    if (midpoint) return (t.alpha / s0.alpha) * x - c * d0 - 0.5 * c * d1;
    return (t.alpha / s0.alpha) * x - c * d0 -
           (t.sigma * ((torch::exp(h) - 1.0) / h - 1.0)) * d1;
  }
  if (a == "sde-dpmsolver++") {
    const torch::Tensor c = t.alpha * (1 - torch::exp(-2.0 * h));
    const torch::Tensor noise_term =
        t.sigma * torch::sqrt(1.0 - torch::exp(-2 * h)) * noise;
    const torch::Tensor base = (t.sigma / s0.sigma * torch::exp(-h)) * x;
    if (midpoint) return base + c * d0 + 0.5 * c * d1 + noise_term;
    return base + c * d0 +
           (t.alpha * ((1.0 - torch::exp(-2.0 * h)) / (-2.0 * h) + 1.0)) * d1 +
           noise_term;
  }
  const torch::Tensor c = t.sigma * (torch::exp(h) - 1.0);
  const torch::Tensor noise_term =
      t.sigma * torch::sqrt(torch::exp(2 * h) - 1.0) * noise;
  const torch::Tensor base = (t.alpha / s0.alpha) * x;
  if (midpoint) return base - 2.0 * c * d0 - c * d1 + noise_term;
  return base - 2.0 * c * d0 -
         2.0 * (t.sigma * ((torch::exp(h) - 1.0) / h - 1.0)) * d1 + noise_term;
}

torch::Tensor DpmSolverMultistepScheduler::ThirdOrder(const torch::Tensor& x,
                                                      int64_t i) const {
  const AlphaSigma t = FromSigma(sigmas_[i + 1]);
  const AlphaSigma s0 = FromSigma(sigmas_[i]);
  const AlphaSigma s1 = FromSigma(sigmas_[i - 1]);
  const AlphaSigma s2 = FromSigma(sigmas_[i - 2]);
  const size_t k = model_outputs_.size();
  const torch::Tensor& m0 = model_outputs_[k - 1];
  const torch::Tensor& m1 = model_outputs_[k - 2];
  const torch::Tensor& m2 = model_outputs_[k - 3];
  const torch::Tensor h = t.lambda - s0.lambda;
  const torch::Tensor h_0 = s0.lambda - s1.lambda;
  const torch::Tensor h_1 = s1.lambda - s2.lambda;
  const torch::Tensor r0 = h_0 / h;
  const torch::Tensor r1 = h_1 / h;
  const torch::Tensor d1_0 = r0.reciprocal() * (m0 - m1);
  const torch::Tensor d1_1 = r1.reciprocal() * (m1 - m2);
  const torch::Tensor d1 = d1_0 + (r0 / (r0 + r1)) * (d1_0 - d1_1);
  const torch::Tensor d2 = (r0 + r1).reciprocal() * (d1_0 - d1_1);
  if (config_.algorithm_type == "dpmsolver++") {
    return (t.sigma / s0.sigma) * x - (t.alpha * (torch::exp(-h) - 1.0)) * m0 +
           (t.alpha * ((torch::exp(-h) - 1.0) / h + 1.0)) * d1 -
           (t.alpha * ((torch::exp(-h) - 1.0 + h) / h.pow(2) - 0.5)) * d2;
  }
  return (t.alpha / s0.alpha) * x - (t.sigma * (torch::exp(h) - 1.0)) * m0 -
         (t.sigma * ((torch::exp(h) - 1.0) / h - 1.0)) * d1 -
         (t.sigma * ((torch::exp(h) - 1.0 - h) / h.pow(2) - 0.5)) * d2;
}

absl::StatusOr<SchedulerStepOutput> DpmSolverMultistepScheduler::Step(
    const torch::Tensor& model_output, int64_t step_index,
    const torch::Tensor& sample, at::Generator* generator) {
  absl::Status s = step_utils::CheckStepArgs(kName, step_index, num_steps(),
                                             sample, &model_output);
  if (!s.ok()) return s;
  if (step_index != next_step_) {
    return absl::FailedPreconditionError(absl::StrCat(
        kName, ": steps must be taken in order; expected step ", next_step_,
        ", got ", step_index, " (SetTimesteps starts over)"));
  }
  return step_utils::CatchTorch(kName, [&] {
    const int64_t i = step_index;
    const int64_t n = num_steps();
    const int64_t order = config_.solver_order;
    const bool final_first_order =
        i == n - 1 &&
        (config_.euler_at_final || (config_.lower_order_final && n < 15) ||
         config_.final_sigmas_type == "zero");
    const bool final_second_order =
        i == n - 2 && config_.lower_order_final && n < 15;

    const torch::Tensor converted = ConvertModelOutput(model_output, sample, i);
    std::rotate(model_outputs_.begin(), model_outputs_.begin() + 1,
                model_outputs_.end());
    model_outputs_.back() = converted;

    const torch::Tensor x = sample.to(torch::kFloat32);
    torch::Tensor noise;
    if (IsSde())
      noise = step_utils::RandnLike(converted, generator, torch::kFloat32);

    torch::Tensor prev;
    if (order == 1 || lower_order_nums_ < 1 || final_first_order) {
      prev = FirstOrder(converted, x, noise, i);
    } else if (order == 2 || lower_order_nums_ < 2 || final_second_order) {
      prev = SecondOrder(x, noise, i);
    } else {
      prev = ThirdOrder(x, i);
    }
    if (lower_order_nums_ < order) ++lower_order_nums_;
    ++next_step_;

    SchedulerStepOutput out;
    out.prev_sample = prev.to(converted.scalar_type());
    if (IsPlusPlus()) {
      out.pred_original_sample = converted;
    } else {
      const AlphaSigma a = FromSigma(sigmas_[i]);
      out.pred_original_sample = (sample - a.sigma * converted) / a.alpha;
    }
    return out;
  });
}

}  // namespace reelfarm::pipeline
