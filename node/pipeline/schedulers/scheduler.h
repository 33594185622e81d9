#ifndef REELFARM_NODE_PIPELINE_SCHEDULERS_SCHEDULER_H_
#define REELFARM_NODE_PIPELINE_SCHEDULERS_SCHEDULER_H_

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/pipeline/schedulers/noise_schedule.h"

namespace reelfarm::pipeline {

struct SchedulerStepOutput {
  torch::Tensor prev_sample;           // x_{t-1}: the next loop's sample
  torch::Tensor pred_original_sample;  // the model's x_0 estimate (previews)
};

// A diffusers noise scheduler, reproducing v0.30.3 numerically: the same
// float32 tensor ops for tensors and per-step scalars, the same float64
// (numpy) arithmetic for timestep and sigma grids.
//
// Use: SetTimesteps(N); latents = noise * init_noise_sigma(); then for
// i in [0, timesteps().size(0)): input = ScaleModelInput(latents, i);
// eps = unet(input, timesteps()[i]); latents = Step(eps, i, latents).
// One per render; not thread-safe. Steps must be taken in order (multistep
// solvers keep history); SetTimesteps starts over.
class Scheduler {
 public:
  virtual ~Scheduler() = default;

  // The diffusers class this mirrors, e.g. "DDIMScheduler".
  virtual std::string class_name() const = 0;

  // Errors when num_inference_steps is outside [1, num_train_timesteps].
  virtual absl::Status SetTimesteps(int64_t num_inference_steps) = 0;

  // What the UNet is called with, in order, one per step: int64 (DDIM,
  // DPM-Solver) or float32 (Euler), on the CPU. SetTimesteps(N) gives N of
  // them (a count where diffusers' numpy grid would not is refused).
  const torch::Tensor& timesteps() const { return timesteps_; }
  int64_t num_steps() const {
    return timesteps_.defined() ? timesteps_.size(0) : 0;
  }

  // Per-step sigmas plus the final one (num_steps + 1 values, float32, CPU),
  // for the sigma-parameterised schedulers; undefined for DDIM.
  const torch::Tensor& sigmas() const { return sigmas_; }

  const NoiseSchedule& noise_schedule() const { return schedule_; }

  // Initial latents are standard normal noise times this.
  virtual double init_noise_sigma() const = 0;

  // The UNet input for step `step_index` (identity for DDIM and DPM-Solver).
  virtual absl::StatusOr<torch::Tensor> ScaleModelInput(
      const torch::Tensor& sample, int64_t step_index) = 0;

  // One denoising step from timesteps()[step_index]. `generator` (a CPU
  // generator, as diffusers' pipelines use) feeds the stochastic samplers;
  // Euler draws (and discards) noise from it too, as diffusers does, so a
  // shared generator advances identically. It may be null: deterministic
  // samplers then draw nothing, stochastic ones use the default generator.
  // Noise is drawn on the CPU and moved to the sample's device.
  virtual absl::StatusOr<SchedulerStepOutput> Step(
      const torch::Tensor& model_output, int64_t step_index,
      const torch::Tensor& sample, at::Generator* generator) = 0;

 protected:
  explicit Scheduler(NoiseSchedule schedule) : schedule_(std::move(schedule)) {}

  NoiseSchedule schedule_;
  torch::Tensor timesteps_;
  torch::Tensor sigmas_;
};

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_SCHEDULERS_SCHEDULER_H_
