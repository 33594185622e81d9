#include "node/renderers/inference_config.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"

namespace reelfarm {
namespace {

absl::Status Bad(const std::string& path, const YAML::Node& node,
                 const std::string& key, const char* want) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ":", node.Mark().line + 1, ":", node.Mark().column + 1,
                   ": ", key, " must be ", want));
}

// Scalars of noise_scheduler_kwargs as typed JSON values.
nlohmann::json ScalarToJson(const YAML::Node& node) {
  const std::string text = node.Scalar();
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  try {
    size_t used = 0;
    const long long i = std::stoll(text, &used);
    if (used == text.size()) return i;
  } catch (...) {
  }
  try {
    size_t used = 0;
    const double d = std::stod(text, &used);
    if (used == text.size()) return d;
  } catch (...) {
  }
  return text;
}

}  // namespace

absl::StatusOr<InferenceConfig> LoadInferenceConfig(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return absl::NotFoundError(
        absl::StrCat("cannot read inference config ", path));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  InferenceConfig config;
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": an inference config is a YAML mapping"));
  }
  try {
    const YAML::Node unet = root["unet_additional_kwargs"];
    if (unet && unet.IsMap() && unet["use_motion_module"] &&
        unet["use_motion_module"].as<bool>()) {
      pipeline::MotionConfig motion;
      if (unet["motion_module_mid_block"]) {
        motion.use_mid_block = unet["motion_module_mid_block"].as<bool>();
      } else {
        motion.use_mid_block = false;
      }
      const YAML::Node kw = unet["motion_module_kwargs"];
      if (kw && kw.IsMap()) {
        if (kw["num_attention_heads"]) {
          motion.num_attention_heads = kw["num_attention_heads"].as<int64_t>();
        }
        if (kw["temporal_position_encoding_max_len"]) {
          motion.max_seq_length =
              kw["temporal_position_encoding_max_len"].as<int64_t>();
        }
        if (kw["norm_num_groups"]) {
          motion.norm_num_groups = kw["norm_num_groups"].as<int64_t>();
        }
      }
      if (motion.num_attention_heads <= 0 || motion.norm_num_groups <= 0 ||
          motion.max_seq_length <= 0) {
        return Bad(path, unet, "motion_module_kwargs", "positive numbers");
      }
      config.motion = motion;
    }
    const YAML::Node noise = root["noise_scheduler_kwargs"];
    if (noise) {
      if (!noise.IsMap()) {
        return Bad(path, noise, "noise_scheduler_kwargs", "a mapping");
      }
      nlohmann::json json = nlohmann::json::object();
      for (const auto& kv : noise) {
        if (!kv.second.IsScalar()) {
          return Bad(path, kv.second, kv.first.as<std::string>(), "a scalar");
        }
        json[kv.first.as<std::string>()] = ScalarToJson(kv.second);
      }
      config.scheduler = json;
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  return config;
}

}  // namespace reelfarm
