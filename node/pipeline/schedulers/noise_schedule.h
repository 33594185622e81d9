#ifndef REELFARM_NODE_PIPELINE_SCHEDULERS_NOISE_SCHEDULE_H_
#define REELFARM_NODE_PIPELINE_SCHEDULERS_NOISE_SCHEDULE_H_

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/pipeline/schedulers/scheduler_config.h"

namespace reelfarm::pipeline {

// The training noise schedule, float32 on the CPU, as diffusers' scheduler
// constructors build it.
struct NoiseSchedule {
  torch::Tensor betas;           // (T,)
  torch::Tensor alphas_cumprod;  // (T,)
};

// betas from beta_schedule / trained_betas (optionally rescaled to zero
// terminal SNR), alphas_cumprod = cumprod(1 - betas). Euler and DPM-Solver
// (not DDIM) pin alphas_cumprod[-1] to 2^-24 after a zero-SNR rescale so the
// last sigma stays finite: pass pin_zero_snr_alpha for them.
absl::StatusOr<NoiseSchedule> MakeNoiseSchedule(const SchedulerConfig& config,
                                                bool pin_zero_snr_alpha);

// ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5 in float32, indexed by
// training timestep (ascending sigma).
torch::Tensor TrainingSigmas(const torch::Tensor& alphas_cumprod);

enum class TimestepSpacing { kLinspace, kLeading, kTrailing };
absl::StatusOr<TimestepSpacing> ParseTimestepSpacing(const std::string& name);

// Descending timesteps before any class-specific cast, as float64 values.
// `count` points over [0, last_timestep) with diffusers' three spacings:
//  linspace: np.linspace(0, last_timestep - 1, count)           (not rounded)
//  leading:  np.arange(count) * (last_timestep // count) + steps_offset
//  trailing: np.arange(last_timestep, 0, -T / N).round() - 1
// `trailing_divisor` is the N of T / N (DPM-Solver passes the step count while
// its count is N + 1). Trailing can yield a point more than `count` (numpy's
// arange length rounding); callers check.
std::vector<double> SpacedTimesteps(TimestepSpacing spacing,
                                    int64_t last_timestep, int64_t count,
                                    int64_t steps_offset,
                                    int64_t num_train_timesteps,
                                    int64_t trailing_divisor);

// Karras et al. (2022) sigmas, rho = 7, as diffusers' _convert_to_karras in
// float64: (max^(1/rho) + ramp * (min^(1/rho) - max^(1/rho)))^rho.
std::vector<double> KarrasSigmas(double sigma_min, double sigma_max,
                                 int64_t num_inference_steps);

// diffusers' _sigma_to_t: the fractional training timestep whose log sigma
// interpolates `sigma`, with numpy's float32/float64 mix reproduced.
double SigmaToT(double sigma, const std::vector<float>& log_sigmas);

// Converts a float vector to a 1-D CPU tensor of `dtype`, and back.
torch::Tensor ToTensor(const std::vector<double>& values,
                       torch::ScalarType dtype);
std::vector<double> ToDoubles(const torch::Tensor& t);

// np.log of the float32 training sigmas (float32 results), for SigmaToT.
std::vector<float> LogSigmas(const torch::Tensor& training_sigmas);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_SCHEDULERS_NOISE_SCHEDULE_H_
