#ifndef REELFARM_NODE_RENDERERS_ANIMATEDIFF_RENDERER_H_
#define REELFARM_NODE_RENDERERS_ANIMATEDIFF_RENDERER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/renderers/device_group.h"
#include "node/pipeline/animatediff/model_bundle.h"
#include "node/renderers/renderer.h"

namespace reelfarm {

// The Renderer that runs AnimateDiff. It keeps the last model set loaded:
// consecutive jobs with the same checkpoints (the coordinator groups them)
// pay the load once. A job that asks for several devices renders on as many
// of the lane's devices as it has, each with its own copy of the models.
class AnimateDiffRenderer : public Renderer {
 public:
  // cpu_threads > 0 sets libtorch's intra-op threads (Debian's build sees
  // one core otherwise).
  explicit AnimateDiffRenderer(const RenderEnvironment& environment);

  absl::StatusOr<Video> Render(const v1::Job& job,
                               RenderContext& context) override;

 private:
  // Loads `models` onto the first `ranks` devices, keeping what is loaded
  // already.
  absl::Status EnsureModels(const v1::ModelSet& models, int ranks);
  // In a process group: whether every member loaded the models, agreed on
  // before any other collective. FailedPrecondition on every member when
  // one did not.
  absl::Status AgreeOnLoad(const absl::Status& loaded);
  // Reads the model set's sources (and the inference config's scheduler).
  absl::Status PrepareSources(const v1::ModelSet& models);

  DeviceGroup group_;
  // A process group's communicator, or null (see RenderEnvironment::group).
  pipeline::comm::Communicator* const process_group_;
  std::string precision_;
  std::string loaded_key_;  // digests of the model set in `sources_`
  pipeline::ModelSources sources_;
  // Per device, in the lane's order: the models loaded there.
  std::vector<std::unique_ptr<pipeline::ModelBundle>> bundles_;
  // The inference config's noise_scheduler_kwargs, read with the models
  // (the model key covers the config's digest).
  std::optional<nlohmann::json> scheduler_config_;
};

}  // namespace reelfarm

#endif  // REELFARM_NODE_RENDERERS_ANIMATEDIFF_RENDERER_H_
