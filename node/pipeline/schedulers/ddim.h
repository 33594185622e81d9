#ifndef REELFARM_NODE_PIPELINE_SCHEDULERS_DDIM_H_
#define REELFARM_NODE_PIPELINE_SCHEDULERS_DDIM_H_

#include <memory>

#include "node/pipeline/schedulers/scheduler.h"

namespace reelfarm::pipeline {

// diffusers' DDIMScheduler. Its quirks are kept: step() goes to
// t - num_train_timesteps // N, not to the next entry of timesteps(), and a
// negative previous timestep uses final_alpha_cumprod (1, or
// alphas_cumprod[0] when set_alpha_to_one is false).
class DdimScheduler : public Scheduler {
 public:
  // Checks the config (defaults: timestep_spacing "leading", clip_sample and
  // set_alpha_to_one true). eta > 0 adds DDPM-like noise (0 is DDIM).
  static absl::StatusOr<std::unique_ptr<DdimScheduler>> Create(
      const SchedulerConfig& config, double eta = 0.0);

  std::string class_name() const override { return "DDIMScheduler"; }
  absl::Status SetTimesteps(int64_t num_inference_steps) override;
  double init_noise_sigma() const override { return 1.0; }
  absl::StatusOr<torch::Tensor> ScaleModelInput(const torch::Tensor& sample,
                                                int64_t step_index) override;
  absl::StatusOr<SchedulerStepOutput> Step(const torch::Tensor& model_output,
                                           int64_t step_index,
                                           const torch::Tensor& sample,
                                           at::Generator* generator) override;

  // diffusers' step(model_output, timestep, sample) for any training
  // timestep, as img2img-style callers and the fixtures use it.
  absl::StatusOr<SchedulerStepOutput> StepAtTimestep(
      const torch::Tensor& model_output, int64_t timestep,
      const torch::Tensor& sample, at::Generator* generator);

  const torch::Tensor& final_alpha_cumprod() const {
    return final_alpha_cumprod_;
  }

 private:
  DdimScheduler(NoiseSchedule schedule, const SchedulerConfig& config,
                TimestepSpacing spacing, double eta);

  SchedulerConfig config_;
  TimestepSpacing spacing_;
  double eta_;
  torch::Tensor final_alpha_cumprod_;  // 0-dim float32
  int64_t num_inference_steps_ = 0;
};

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_SCHEDULERS_DDIM_H_
