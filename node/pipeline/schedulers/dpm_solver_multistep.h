#ifndef REELFARM_NODE_PIPELINE_SCHEDULERS_DPM_SOLVER_MULTISTEP_H_
#define REELFARM_NODE_PIPELINE_SCHEDULERS_DPM_SOLVER_MULTISTEP_H_

#include <memory>
#include <vector>

#include "node/pipeline/schedulers/scheduler.h"

namespace reelfarm::pipeline {

// diffusers' DPMSolverMultistepScheduler: DPM-Solver++ (2M by default; also
// 1S/3M, the SDE variants and the deprecated non-++ forms), with optional
// Karras or Lu lambda sigmas. The sample stays on the variance-preserving
// scale (init_noise_sigma 1, identity input scaling); sigmas() are the
// matching VE sigmas. With lower_order_final, the first step is first order
// (no history) and so are the last (and, under 15 steps, the second order
// at the second last) steps.
class DpmSolverMultistepScheduler : public Scheduler {
 public:
  static absl::StatusOr<std::unique_ptr<DpmSolverMultistepScheduler>> Create(
      const SchedulerConfig& config);

  std::string class_name() const override {
    return "DPMSolverMultistepScheduler";
  }
  absl::Status SetTimesteps(int64_t num_inference_steps) override;
  double init_noise_sigma() const override { return 1.0; }
  absl::StatusOr<torch::Tensor> ScaleModelInput(const torch::Tensor& sample,
                                                int64_t step_index) override;
  // Steps must come in order 0, 1, ...: the solver keeps the last outputs.
  absl::StatusOr<SchedulerStepOutput> Step(const torch::Tensor& model_output,
                                           int64_t step_index,
                                           const torch::Tensor& sample,
                                           at::Generator* generator) override;

 private:
  DpmSolverMultistepScheduler(NoiseSchedule schedule,
                              const SchedulerConfig& config,
                              TimestepSpacing spacing);

  absl::Status ComputeSchedule(int64_t num_inference_steps);
  bool IsPlusPlus() const;
  bool IsSde() const;
  // x_0 (++ variants) or epsilon (the others) from the raw model output.
  torch::Tensor ConvertModelOutput(const torch::Tensor& model_output,
                                   const torch::Tensor& sample,
                                   int64_t step_index) const;
  torch::Tensor FirstOrder(const torch::Tensor& m, const torch::Tensor& x,
                           const torch::Tensor& noise, int64_t i) const;
  torch::Tensor SecondOrder(const torch::Tensor& x, const torch::Tensor& noise,
                            int64_t i) const;
  torch::Tensor ThirdOrder(const torch::Tensor& x, int64_t i) const;

  SchedulerConfig config_;
  TimestepSpacing spacing_;
  std::vector<torch::Tensor> model_outputs_;  // oldest first, solver_order
  int64_t lower_order_nums_ = 0;
  int64_t next_step_ = 0;
};

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_SCHEDULERS_DPM_SOLVER_MULTISTEP_H_
