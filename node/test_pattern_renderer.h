#ifndef REELFARM_NODE_TEST_PATTERN_RENDERER_H_
#define REELFARM_NODE_TEST_PATTERN_RENDERER_H_

#include "node/renderer.h"

namespace reelfarm {

// Deterministic frames computed from the job's parameters, taking
// `ms_per_job` of simulated work. It stands in for the diffusion pipeline
// wherever a GPU is not available or not the point: scheduling, fault and
// SLURM tests, benchmarks of the coordinator.
class TestPatternRenderer : public Renderer {
 public:
  explicit TestPatternRenderer(uint32_t ms_per_job) : ms_per_job_(ms_per_job) {}
  absl::StatusOr<Video> Render(const v1::Job& job,
                               RenderContext& context) override;

 private:
  const uint32_t ms_per_job_;
};

}  // namespace reelfarm

#endif  // REELFARM_NODE_TEST_PATTERN_RENDERER_H_
