#ifndef REELFARM_SWEEP_MODEL_KEYS_H_
#define REELFARM_SWEEP_MODEL_KEYS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sweep/load_context.h"
#include "sweep/yaml_source.h"
#include "reelfarm/v1/sweep.pb.h"

namespace reelfarm::config {

// AnimateDiff's default LoRA strength (animate.py: lora_alpha 0.8) and
// domain-adapter scale (adapter_lora_scale 1.0).
inline constexpr double kDefaultLoraAlpha = 0.8;
inline constexpr double kDefaultAdapterScale = 1.0;

// The checkpoint keys an AnimateDiff entry and reelfarm's `model:` section
// share: pretrained_model_path, motion_module, dreambooth_path,
// inference_config, lora_model_path, lora_alpha, motion_module_lora_configs,
// adapter_lora_path, adapter_lora_scale.
const std::vector<absl::string_view>& ModelKeys();
bool IsModelKey(absl::string_view key);

// A model path as written in a config (or a flag) turned into a ModelRef:
// absolute (relative paths against ctx.model_base_dir, or `base_dir` when
// given), stat'd and digested when options.check_model_paths. An empty path
// means "none" and gives an empty ModelRef. `where` and `note` ("(from
// --pretrained-model-path)") locate and explain errors, which are NotFound:
// "where: field: cannot read <path as written>: <reason>".
absl::StatusOr<v1::ModelRef> ResolveModelPath(
    const std::string& written, const std::string& where,
    absl::string_view field, const LoadContext& ctx,
    const std::filesystem::path* base_dir = nullptr,
    absl::string_view note = "");

// The same for a config value, which must be a string.
absl::StatusOr<v1::ModelRef> ReadModelPath(const YAML::Node& node,
                                           absl::string_view field,
                                           const LoadContext& ctx);

// Fills `models` from the model keys among `entries`; other keys are left
// to the caller. motion_module must be a single path here (AnimateDiff's
// list form is the caller's business: leave it out of `entries`).
absl::Status ReadModelSet(const std::vector<MapEntry>& entries,
                          LoadContext& ctx, v1::ModelSet* models);

// What animate.py's flags fill when the config leaves them unset:
// --pretrained-model-path and --inference-config (relative to the cwd), and,
// when `animatediff_defaults` (AnimateDiff's forms rendered by the
// animatediff renderer), animate.py's own defaults for both.
absl::Status ApplyModelFlags(const std::string& where,
                             bool animatediff_defaults, LoadContext& ctx,
                             v1::ModelSet* models);

}  // namespace reelfarm::config

#endif  // REELFARM_SWEEP_MODEL_KEYS_H_
