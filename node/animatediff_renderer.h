#ifndef REELFARM_NODE_ANIMATEDIFF_RENDERER_H_
#define REELFARM_NODE_ANIMATEDIFF_RENDERER_H_

#include <memory>
#include <optional>
#include <string>

#include "node/pipeline/model_bundle.h"
#include "node/renderer.h"

namespace reelfarm {

// The Renderer that runs AnimateDiff. It keeps the last model set loaded:
// consecutive jobs with the same checkpoints (the coordinator groups them)
// pay the load once.
class AnimateDiffRenderer : public Renderer {
 public:
  // cpu_threads > 0 sets libtorch's intra-op threads (Debian's build sees
  // one core otherwise).
  explicit AnimateDiffRenderer(const RenderEnvironment& environment);

  absl::StatusOr<Video> Render(const v1::Job& job,
                               RenderContext& context) override;

 private:
  absl::Status EnsureModels(const v1::ModelSet& models);

  std::string device_;
  std::string precision_;
  std::string loaded_key_;  // digests of the loaded model set
  std::unique_ptr<pipeline::ModelBundle> bundle_;
  // The inference config's noise_scheduler_kwargs, read with the models
  // (the model key covers the config's digest).
  std::optional<nlohmann::json> scheduler_config_;
};

}  // namespace reelfarm

#endif  // REELFARM_NODE_ANIMATEDIFF_RENDERER_H_
