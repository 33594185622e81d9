#ifndef REELFARM_NODE_RENDERERS_TEST_PATTERN_RENDERER_H_
#define REELFARM_NODE_RENDERERS_TEST_PATTERN_RENDERER_H_

#include "node/renderers/renderer.h"

namespace reelfarm {

// Deterministic frames computed from the job's parameters, taking
// `ms_per_job` of simulated work, plus `load_ms` once per instance for a
// simulated model load. It stands in for the diffusion pipeline wherever a
// GPU is not available or not the point: scheduling, fault and SLURM tests,
// benchmarks of the coordinator. A job that asks for several of the lane's
// `devices` reports the progress of each, as a multi-device render does.
class TestPatternRenderer : public Renderer {
 public:
  explicit TestPatternRenderer(uint32_t ms_per_job, uint32_t load_ms = 0,
                               size_t devices = 1)
      : ms_per_job_(ms_per_job), load_ms_(load_ms), devices_(devices) {}
  absl::StatusOr<Video> Render(const v1::Job& job,
                               RenderContext& context) override;

 private:
  const uint32_t ms_per_job_;
  const uint32_t load_ms_;
  const size_t devices_;
  bool loaded_ = false;
};

}  // namespace reelfarm

#endif  // REELFARM_NODE_RENDERERS_TEST_PATTERN_RENDERER_H_
