#ifndef REELFARM_NODE_PIPELINE_SCHEDULERS_EULER_H_
#define REELFARM_NODE_PIPELINE_SCHEDULERS_EULER_H_

#include <memory>

#include "node/pipeline/schedulers/scheduler.h"

namespace reelfarm::pipeline {

// diffusers' EulerDiscreteScheduler (ancestral = false; s_churn = 0, so no
// noise is added, though one draw per step is still taken from a given
// generator) and EulerAncestralDiscreteScheduler (ancestral = true; linear
// interpolation, no Karras sigmas, final sigma 0, as that class has no
// options for them). Both work on the sigma (variance-exploding) scale:
// init_noise_sigma is sigma_max (sqrt(sigma_max^2 + 1) for "leading") and
// the UNet input is sample / sqrt(sigma^2 + 1).
class EulerScheduler : public Scheduler {
 public:
  static absl::StatusOr<std::unique_ptr<EulerScheduler>> Create(
      const SchedulerConfig& config, bool ancestral);

  std::string class_name() const override {
    return ancestral_ ? "EulerAncestralDiscreteScheduler"
                      : "EulerDiscreteScheduler";
  }
  absl::Status SetTimesteps(int64_t num_inference_steps) override;
  double init_noise_sigma() const override { return init_noise_sigma_; }
  absl::StatusOr<torch::Tensor> ScaleModelInput(const torch::Tensor& sample,
                                                int64_t step_index) override;
  absl::StatusOr<SchedulerStepOutput> Step(const torch::Tensor& model_output,
                                           int64_t step_index,
                                           const torch::Tensor& sample,
                                           at::Generator* generator) override;

 private:
  EulerScheduler(NoiseSchedule schedule, const SchedulerConfig& config,
                 TimestepSpacing spacing, bool ancestral);

  // diffusers' set_timesteps in float64 (numpy) then float32.
  absl::Status ComputeSchedule(int64_t num_inference_steps);
  torch::Tensor PredictOriginal(const torch::Tensor& model_output,
                                const torch::Tensor& sample,
                                const torch::Tensor& sigma) const;

  SchedulerConfig config_;
  TimestepSpacing spacing_;
  bool ancestral_;
  double init_noise_sigma_ = 1.0;
};

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_SCHEDULERS_EULER_H_
