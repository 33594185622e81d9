#include "node/pipeline/schedulers/noise_schedule.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "node/pipeline/schedulers/numpy_compat.h"

namespace reelfarm::pipeline {
namespace {

// The "squaredcos_cap_v2" (Glide cosine) schedule, computed in Python floats
// (double) and stored as float32.
torch::Tensor CosineBetas(int64_t num_train_timesteps) {
  auto alpha_bar = [](double t) {
    const double c = std::cos((t + 0.008) / 1.008 * M_PI / 2);
    return std::pow(c, 2.0);
  };
  std::vector<double> betas;
  betas.reserve(num_train_timesteps);
  const auto n = static_cast<double>(num_train_timesteps);
  for (int64_t i = 0; i < num_train_timesteps; ++i) {
    const double t1 = static_cast<double>(i) / n;
    const double t2 = static_cast<double>(i + 1) / n;
    betas.push_back(std::min(1 - alpha_bar(t2) / alpha_bar(t1), 0.999));
  }
  return ToTensor(betas, torch::kFloat32);
}

// Lin et al. (2023), Algorithm 1, in float32 torch ops in diffusers' order.
torch::Tensor RescaleZeroTerminalSnr(const torch::Tensor& betas) {
  torch::Tensor alphas = 1.0 - betas;
  torch::Tensor alphas_bar_sqrt = torch::cumprod(alphas, 0).sqrt();
  const torch::Tensor first = alphas_bar_sqrt[0].clone();
  const torch::Tensor last = alphas_bar_sqrt[-1].clone();
  alphas_bar_sqrt -= last;
  alphas_bar_sqrt *= first / (first - last);
  const torch::Tensor alphas_bar = alphas_bar_sqrt.pow(2);
  const int64_t n = alphas_bar.size(0);
  alphas = alphas_bar.slice(0, 1, n) / alphas_bar.slice(0, 0, n - 1);
  alphas = torch::cat({alphas_bar.slice(0, 0, 1), alphas});
  return 1 - alphas;
}

}  // namespace

torch::Tensor ToTensor(const std::vector<double>& values,
                       torch::ScalarType dtype) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(values.size())},
                                 torch::dtype(torch::kFloat64));
  std::copy(values.begin(), values.end(), t.data_ptr<double>());
  return t.to(dtype);
}

std::vector<double> ToDoubles(const torch::Tensor& t) {
  const torch::Tensor d = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(d.data_ptr<double>(),
                             d.data_ptr<double>() + d.numel());
}

std::vector<float> LogSigmas(const torch::Tensor& training_sigmas) {
  const torch::Tensor f =
      training_sigmas.to(torch::kCPU, torch::kFloat32).contiguous();
  std::vector<float> out(f.numel());
  for (int64_t i = 0; i < f.numel(); ++i) {
    out[i] = std::log(f.data_ptr<float>()[i]);
  }
  return out;
}

absl::StatusOr<NoiseSchedule> MakeNoiseSchedule(const SchedulerConfig& config,
                                                bool pin_zero_snr_alpha) {
  const int64_t n = config.num_train_timesteps;
  if (n < 2 || n > 1000000) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_train_timesteps must be in [2, 1000000], got ", n));
  }
  torch::Tensor betas;
  if (config.trained_betas.has_value()) {
    if (static_cast<int64_t>(config.trained_betas->size()) != n) {
      return absl::InvalidArgumentError(
          absl::StrCat("trained_betas has ", config.trained_betas->size(),
                       " values but num_train_timesteps is ", n));
    }
    betas = ToTensor(*config.trained_betas, torch::kFloat32);
  } else if (config.beta_schedule == "linear") {
    betas = torch::linspace(config.beta_start, config.beta_end, n,
                            torch::dtype(torch::kFloat32));
  } else if (config.beta_schedule == "scaled_linear") {
    // Python's x ** 0.5 on floats is pow(), not sqrt().
    betas = torch::linspace(std::pow(config.beta_start, 0.5),
                            std::pow(config.beta_end, 0.5), n,
                            torch::dtype(torch::kFloat32))
                .pow(2);
  } else if (config.beta_schedule == "squaredcos_cap_v2") {
    betas = CosineBetas(n);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown beta_schedule '", config.beta_schedule,
                     "' (linear, scaled_linear, squaredcos_cap_v2)"));
  }
  if (config.rescale_betas_zero_snr) betas = RescaleZeroTerminalSnr(betas);
  torch::Tensor alphas_cumprod = torch::cumprod(1.0 - betas, 0);
  if (config.rescale_betas_zero_snr && pin_zero_snr_alpha) {
    alphas_cumprod[-1] = std::pow(2.0, -24);
  }
  return NoiseSchedule{betas, alphas_cumprod};
}

torch::Tensor TrainingSigmas(const torch::Tensor& alphas_cumprod) {
  return ((1 - alphas_cumprod) / alphas_cumprod).pow(0.5);
}

absl::StatusOr<TimestepSpacing> ParseTimestepSpacing(const std::string& name) {
  if (name == "linspace") return TimestepSpacing::kLinspace;
  if (name == "leading") return TimestepSpacing::kLeading;
  if (name == "trailing") return TimestepSpacing::kTrailing;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown timestep_spacing '", name, "' (linspace, leading, trailing)"));
}

std::vector<double> SpacedTimesteps(TimestepSpacing spacing,
                                    int64_t last_timestep, int64_t count,
                                    int64_t steps_offset,
                                    int64_t num_train_timesteps,
                                    int64_t trailing_divisor) {
  std::vector<double> t;
  switch (spacing) {
    case TimestepSpacing::kLinspace:
      t = numpy_compat::Linspace(0, static_cast<double>(last_timestep - 1),
                                 count);
      std::reverse(t.begin(), t.end());
      break;
    case TimestepSpacing::kLeading: {
      // Integer arithmetic in numpy: exact in double.
      const int64_t ratio = last_timestep / count;
      for (int64_t i = count - 1; i >= 0; --i) {
        t.push_back(static_cast<double>(i * ratio + steps_offset));
      }
      break;
    }
    case TimestepSpacing::kTrailing: {
      const double ratio = static_cast<double>(num_train_timesteps) /
                           static_cast<double>(trailing_divisor);
      t = numpy_compat::Arange(static_cast<double>(last_timestep), 0, -ratio);
      for (double& v : t) v = numpy_compat::Round(v) - 1;
      break;
    }
  }
  return t;
}

std::vector<double> KarrasSigmas(double sigma_min, double sigma_max,
                                 int64_t num_inference_steps) {
  constexpr double kRho = 7.0;
  const std::vector<double> ramp =
      numpy_compat::Linspace(0, 1, num_inference_steps);
  const double min_inv_rho = std::pow(sigma_min, 1 / kRho);
  const double max_inv_rho = std::pow(sigma_max, 1 / kRho);
  std::vector<double> sigmas;
  sigmas.reserve(ramp.size());
  for (double r : ramp) {
    sigmas.push_back(
        std::pow(max_inv_rho + r * (min_inv_rho - max_inv_rho), kRho));
  }
  return sigmas;
}

double SigmaToT(double sigma, const std::vector<float>& log_sigmas) {
  const double log_sigma = std::log(std::max(sigma, 1e-10));
  // numpy subtracts the float64 scalar from the float32 table in float32, so
  // the comparisons and the weight happen in float32.
  const auto log_sigma32 = static_cast<float>(log_sigma);
  const auto n = static_cast<int64_t>(log_sigmas.size());
  // argmax of the cumulative count of (log_sigma - log_sigmas >= 0): the last
  // index where it holds, 0 when it never does.
  int64_t low_idx = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (log_sigma32 - log_sigmas[i] >= 0) low_idx = i;
  }
  low_idx = std::min(low_idx, n - 2);
  const int64_t high_idx = low_idx + 1;
  const float low = log_sigmas[low_idx];
  const float high = log_sigmas[high_idx];
  float w = (low - log_sigma32) / (low - high);
  w = std::min(std::max(w, 0.0f), 1.0f);
  // float32 weights times int64 indices promote to float64.
  return static_cast<double>(1 - w) * static_cast<double>(low_idx) +
         static_cast<double>(w) * static_cast<double>(high_idx);
}

}  // namespace reelfarm::pipeline
