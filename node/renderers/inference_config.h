#ifndef REELFARM_NODE_RENDERERS_INFERENCE_CONFIG_H_
#define REELFARM_NODE_RENDERERS_INFERENCE_CONFIG_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "node/pipeline/animatediff/unet_config.h"

namespace reelfarm {

// What reelfarm takes from an AnimateDiff inference config
// (configs/inference/inference-v*.yaml).
struct InferenceConfig {
  // From unet_additional_kwargs: motion_module_mid_block and
  // motion_module_kwargs.{num_attention_heads,
  // temporal_position_encoding_max_len, norm_num_groups}. Unset when the
  // file describes no motion module.
  std::optional<pipeline::MotionConfig> motion;
  // noise_scheduler_kwargs as a diffusers scheduler config. Unset when the
  // file has none: the model folder's scheduler config applies.
  std::optional<nlohmann::json> scheduler;
};

// Errors name the file and the key.
absl::StatusOr<InferenceConfig> LoadInferenceConfig(const std::string& path);

}  // namespace reelfarm

#endif  // REELFARM_NODE_RENDERERS_INFERENCE_CONFIG_H_
