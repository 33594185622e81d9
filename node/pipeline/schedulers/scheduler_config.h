#ifndef REELFARM_NODE_PIPELINE_SCHEDULERS_SCHEDULER_CONFIG_H_
#define REELFARM_NODE_PIPELINE_SCHEDULERS_SCHEDULER_CONFIG_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace reelfarm::pipeline {

// The union of the constructor arguments of diffusers' DDIMScheduler,
// EulerDiscreteScheduler, EulerAncestralDiscreteScheduler and
// DPMSolverMultistepScheduler (v0.30.3), under the same names. A field whose
// default differs between those classes is optional: unset means "the
// default of the class being built", as diffusers' from_config() does.
struct SchedulerConfig {
  // Shared by all four.
  int64_t num_train_timesteps = 1000;
  double beta_start = 0.0001;
  double beta_end = 0.02;
  std::string beta_schedule = "linear";  // linear, scaled_linear,
                                         // squaredcos_cap_v2
  std::optional<std::vector<double>> trained_betas;
  std::string prediction_type = "epsilon";      // epsilon, sample, v_prediction
  std::optional<std::string> timestep_spacing;  // DDIM: leading, else linspace
  int64_t steps_offset = 0;
  bool rescale_betas_zero_snr = false;

  // DDIM (thresholding and its parameters are shared with DPM-Solver).
  std::optional<bool> clip_sample;  // DDIM default true
  double clip_sample_range = 1.0;
  std::optional<bool> set_alpha_to_one;  // DDIM default true
  bool thresholding = false;
  double dynamic_thresholding_ratio = 0.995;
  double sample_max_value = 1.0;

  // Euler (Karras sigmas and final_sigmas_type are shared with DPM-Solver).
  std::string interpolation_type = "linear";  // linear, log_linear
  bool use_karras_sigmas = false;
  std::optional<double> sigma_min;
  std::optional<double> sigma_max;
  std::string timestep_type = "discrete";  // discrete, continuous
  std::string final_sigmas_type = "zero";  // zero, sigma_min

  // DPM-Solver multistep.
  int64_t solver_order = 2;
  std::string algorithm_type = "dpmsolver++";
  std::string solver_type = "midpoint";  // midpoint, heun
  bool lower_order_final = true;
  bool euler_at_final = false;
  bool use_lu_lambdas = false;
  double lambda_min_clipped = -std::numeric_limits<double>::infinity();
  std::optional<std::string> variance_type;
};

// Reads a diffusers scheduler_config.json object (or AnimateDiff's
// noise_scheduler_kwargs as JSON). Unknown keys, including "_class_name" and
// "_diffusers_version", are ignored; a known key of the wrong type is an
// InvalidArgument error that names the key. Values are checked when a
// scheduler is built, not here.
absl::StatusOr<SchedulerConfig> ParseSchedulerConfig(
    const nlohmann::json& config_json);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_SCHEDULERS_SCHEDULER_CONFIG_H_
