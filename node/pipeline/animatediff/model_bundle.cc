#include "node/pipeline/animatediff/model_bundle.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "node/pipeline/weights/checkpoint.h"
#include "node/pipeline/weights/checkpoint_layouts.h"
#include "node/pipeline/weights/lora.h"
#include "node/pipeline/weights/json_config.h"
#include "node/pipeline/weights/state_dict.h"

namespace reelfarm::pipeline {
namespace {

namespace fs = std::filesystem;

// The weights file of a diffusers component folder, in the order diffusers
// prefers them.
absl::StatusOr<std::string> ComponentWeights(const fs::path& dir) {
  for (const char* name :
       {"diffusion_pytorch_model.safetensors", "model.safetensors",
        "diffusion_pytorch_model.bin", "pytorch_model.bin",
        "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors"}) {
    if (fs::exists(dir / name)) return (dir / name).string();
  }
  return absl::NotFoundError(
      absl::StrCat(dir.string(),
                   ": no weights file (expected "
                   "diffusion_pytorch_model.safetensors or "
                   "model.safetensors)"));
}

absl::StatusOr<nlohmann::json> ComponentConfig(const fs::path& dir,
                                               const char* name) {
  return ReadJsonFile((dir / name).string());
}

// Keeps only the tensors under one of `prefixes`.
TensorMap Select(const TensorMap& all,
                 std::initializer_list<const char*> prefixes) {
  TensorMap out;
  for (const auto& [key, t] : all) {
    for (const char* p : prefixes) {
      if (absl::StartsWith(key, p)) {
        out[key] = t;
        break;
      }
    }
  }
  return out;
}

bool HasMidBlockMotion(const TensorMap& tensors) {
  for (const auto& [key, t] : tensors) {
    if (absl::StartsWith(key, "mid_block.motion_modules.")) return true;
  }
  return false;
}

// The motion modules' weights (diffusers names) and their shape.
absl::Status LoadMotion(const ModelSources& sources, TensorMap* weights,
                        MotionConfig* config) {
  fs::path path = sources.motion_module;
  std::optional<MotionConfig> from_folder;
  if (fs::is_directory(path)) {
    absl::StatusOr<nlohmann::json> json = ComponentConfig(path, "config.json");
    if (!json.ok()) return json.status();
    absl::StatusOr<MotionConfig> parsed =
        MotionConfig::FromJson(*json, (path / "config.json").string());
    if (!parsed.ok()) return parsed.status();
    from_folder = *parsed;
    absl::StatusOr<std::string> file = ComponentWeights(path);
    if (!file.ok()) return file.status();
    path = *file;
  }
  absl::StatusOr<TensorMap> tensors = LoadWeightsFile(path.string());
  if (!tensors.ok()) return tensors.status();
  int64_t stored_len = 0;
  if (IsOriginalMotionModule(*tensors)) {
    absl::StatusOr<TensorMap> converted =
        ConvertOriginalMotionModule(*tensors, path.string(), &stored_len);
    if (!converted.ok()) return converted.status();
    *tensors = *std::move(converted);
  }
  if (sources.motion_config.has_value()) {
    *config = *sources.motion_config;
  } else if (from_folder.has_value()) {
    *config = *from_folder;
  } else {
    // guoyww's modules: 8 heads and 32 groups in every released version.
    *config = MotionConfig();
    config->use_mid_block = HasMidBlockMotion(*tensors);
    if (stored_len > 0) config->max_seq_length = stored_len;
  }
  if (config->use_mid_block != HasMidBlockMotion(*tensors)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": the motion module ",
                     config->use_mid_block ? "lacks" : "has",
                     " a mid-block module, which its config says it ",
                     config->use_mid_block ? "has" : "lacks"));
  }
  *weights = *std::move(tensors);
  return absl::OkStatus();
}

}  // namespace

void ModelBundle::To(const torch::Device& device, torch::ScalarType dtype,
                     bool channels_last) {
  text_encoder->to(device, dtype);
  unet->to(device, dtype);
  vae->to(device, dtype);
  if (!channels_last) return;
  torch::NoGradGuard no_grad;
  for (torch::nn::Module* module :
       {static_cast<torch::nn::Module*>(unet.get()),
        static_cast<torch::nn::Module*>(vae.get())}) {
    for (torch::Tensor& p : module->parameters()) {
      if (p.dim() == 4) {
        p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
      }
    }
  }
}

absl::StatusOr<torch::ScalarType> ParsePrecision(const std::string& name) {
  if (name == "fp32" || name == "float32") return torch::kFloat32;
  if (name == "fp16" || name == "float16") return torch::kFloat16;
  if (name == "bf16" || name == "bfloat16") return torch::kBFloat16;
  return absl::InvalidArgumentError(
      absl::StrCat("precision '", name, "' is not one of fp32, fp16, bf16"));
}

const std::vector<std::string>& RecomputedBufferSuffixes() {
  static const auto* suffixes = new std::vector<std::string>{
      "position_ids", "pos_embed.pe", "pos_encoder.pe"};
  return *suffixes;
}

absl::StatusOr<std::unique_ptr<ModelBundle>> LoadModelBundle(
    const ModelSources& sources) {
  const fs::path base = sources.base;
  if (!fs::is_directory(base) || !fs::exists(base / "model_index.json")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pretrained_model_path ", sources.base,
        " is not a diffusers folder (no model_index.json); a single-file "
        "checkpoint goes in dreambooth_path on top of an SD 1.5 folder"));
  }
  auto bundle = std::make_unique<ModelBundle>();

  absl::StatusOr<ClipTokenizer> tokenizer =
      ClipTokenizer::LoadFolder((base / "tokenizer").string());
  if (!tokenizer.ok()) return tokenizer.status();
  bundle->tokenizer.emplace(*std::move(tokenizer));

  absl::StatusOr<nlohmann::json> scheduler =
      ComponentConfig(base / "scheduler", "scheduler_config.json");
  if (!scheduler.ok()) return scheduler.status();
  bundle->scheduler_config = *scheduler;

  // Configs from the folder; weights from it unless a single file replaces
  // them.
  auto text_json = ComponentConfig(base / "text_encoder", "config.json");
  if (!text_json.ok()) return text_json.status();
  auto text_config = ClipTextConfig::FromJson(
      *text_json, (base / "text_encoder/config.json").string());
  if (!text_config.ok()) return text_config.status();
  auto unet_json = ComponentConfig(base / "unet", "config.json");
  if (!unet_json.ok()) return unet_json.status();
  auto unet_config =
      UNetConfig::FromJson(*unet_json, (base / "unet/config.json").string());
  if (!unet_config.ok()) return unet_config.status();
  auto vae_json = ComponentConfig(base / "vae", "config.json");
  if (!vae_json.ok()) return vae_json.status();
  auto vae_config =
      VaeConfig::FromJson(*vae_json, (base / "vae/config.json").string());
  if (!vae_config.ok()) return vae_config.status();

  TensorMap text_weights, unet_weights, vae_weights;
  std::string text_source, unet_source, vae_source;
  if (!sources.dreambooth.empty()) {
    absl::StatusOr<TensorMap> file = LoadWeightsFile(sources.dreambooth);
    if (!file.ok()) return file.status();
    if (!IsLdmCheckpoint(*file)) {
      return absl::InvalidArgumentError(absl::StrCat(
          sources.dreambooth,
          ": not a single-file SD checkpoint (no model.diffusion_model.* "
          "tensors)"));
    }
    absl::StatusOr<SplitCheckpoint> split = ConvertLdmCheckpoint(
        *file, static_cast<int>(unet_config->layers_per_block),
        sources.dreambooth);
    if (!split.ok()) return split.status();
    text_weights = std::move(split->text_encoder);
    unet_weights = std::move(split->unet);
    vae_weights = std::move(split->vae);
    text_source = unet_source = vae_source = sources.dreambooth;
  } else {
    for (auto [dir, weights, source] :
         {std::make_tuple("text_encoder", &text_weights, &text_source),
          std::make_tuple("unet", &unet_weights, &unet_source),
          std::make_tuple("vae", &vae_weights, &vae_source)}) {
      absl::StatusOr<std::string> file = ComponentWeights(base / dir);
      if (!file.ok()) return file.status();
      absl::StatusOr<TensorMap> tensors = LoadWeightsFile(*file);
      if (!tensors.ok()) return tensors.status();
      *weights = *std::move(tensors);
      *source = *file;
    }
    vae_weights = Select(vae_weights, {"decoder.", "post_quant_conv."});
  }

  // LoRAs patch the image weights, whichever file they came from.
  for (const auto& [path, scale] : sources.loras) {
    absl::StatusOr<TensorMap> lora = LoadWeightsFile(path);
    if (!lora.ok()) return lora.status();
    if (absl::Status st =
            MergeLora(*lora, scale, &unet_weights, &text_weights, path);
        !st.ok()) {
      return st;
    }
    unet_source = absl::StrCat(unet_source, " + ", path);
    text_source = absl::StrCat(text_source, " + ", path);
  }
  if (sources.adapter_lora.has_value()) {
    const auto& [path, scale] = *sources.adapter_lora;
    absl::StatusOr<TensorMap> lora = LoadWeightsFile(path);
    if (!lora.ok()) return lora.status();
    // AnimateDiff merges the domain adapter into the UNet only.
    if (absl::Status st = MergeLora(*lora, scale, &unet_weights, nullptr, path);
        !st.ok()) {
      return st;
    }
    unet_source = absl::StrCat(unet_source, " + ", path);
  }
  if (!sources.motion_loras.empty() && sources.motion_module.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("motion LoRA ", sources.motion_loras.front().first,
                     " needs a motion_module to patch"));
  }

  bundle->text_encoder = ClipTextModel(*text_config);
  if (absl::Status st = LoadStateDict(*bundle->text_encoder, text_weights, "",
                                      text_source, RecomputedBufferSuffixes());
      !st.ok()) {
    return st;
  }
  std::optional<MotionConfig> motion;
  if (!sources.motion_module.empty()) {
    TensorMap motion_weights;
    MotionConfig config;
    if (absl::Status st = LoadMotion(sources, &motion_weights, &config);
        !st.ok()) {
      return st;
    }
    for (int64_t ch : unet_config->block_out_channels) {
      if (ch % config.norm_num_groups != 0 ||
          ch % config.num_attention_heads != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            sources.motion_module, ": ", config.norm_num_groups,
            " norm groups and ", config.num_attention_heads,
            " heads do not divide the UNet's ", ch,
            " channels (does the inference config describe this module?)"));
      }
    }
    motion = config;
    for (const auto& [path, scale] : sources.motion_loras) {
      absl::StatusOr<TensorMap> lora = LoadWeightsFile(path);
      if (!lora.ok()) return lora.status();
      if (absl::Status st =
              MergeMotionLora(*lora, scale, &motion_weights, path);
          !st.ok()) {
        return st;
      }
    }
    for (auto& [key, t] : motion_weights) {
      if (!unet_weights.emplace(key, t).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(sources.motion_module, ": tensor '", key,
                         "' collides with the UNet's own weights"));
      }
    }
    unet_source = absl::StrCat(unet_source, " + ", sources.motion_module);
    for (const auto& motion_lora : sources.motion_loras) {
      unet_source = absl::StrCat(unet_source, " + ", motion_lora.first);
    }
  }
  bundle->unet = UNet(*unet_config, motion);
  if (absl::Status st = LoadStateDict(*bundle->unet, unet_weights, "",
                                      unet_source, RecomputedBufferSuffixes());
      !st.ok()) {
    return st;
  }
  bundle->vae = VaeDecoder(*vae_config);
  if (absl::Status st =
          LoadStateDict(*bundle->vae, vae_weights, "", vae_source);
      !st.ok()) {
    return st;
  }
  bundle->text_encoder->eval();
  bundle->unet->eval();
  bundle->vae->eval();
  return bundle;
}

}  // namespace reelfarm::pipeline
