#include "node/pipeline/weights/checkpoint_layouts.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace reelfarm::pipeline {
namespace {

constexpr char kUNetPrefix[] = "model.diffusion_model.";
constexpr char kVaePrefix[] = "first_stage_model.";
constexpr char kTextPrefix[] = "cond_stage_model.transformer.";

std::string ResnetNames(absl::string_view rest) {
  return absl::StrReplaceAll(rest, {{"in_layers.0", "norm1"},
                                    {"in_layers.2", "conv1"},
                                    {"out_layers.0", "norm2"},
                                    {"out_layers.3", "conv2"},
                                    {"emb_layers.1", "time_emb_proj"},
                                    {"skip_connection", "conv_shortcut"},
                                    {"nin_shortcut", "conv_shortcut"}});
}

absl::Status NoPattern(const std::string& source, const std::string& key) {
  return absl::InvalidArgumentError(absl::StrCat(
      source, ": tensor '", key, "' fits no known single-file layout"));
}

// "input_blocks.4.1.proj_in.weight" -> {4, 1, "proj_in.weight"}.
bool SplitIndexed(absl::string_view key, absl::string_view head, int* a, int* b,
                  std::string* rest) {
  if (!absl::ConsumePrefix(&key, head)) return false;
  std::vector<absl::string_view> parts =
      absl::StrSplit(key, absl::MaxSplits('.', 2));
  if (parts.size() < 3) return false;
  if (!absl::SimpleAtoi(parts[0], a) || !absl::SimpleAtoi(parts[1], b)) {
    return false;
  }
  *rest = std::string(parts[2]);
  return true;
}

absl::StatusOr<std::string> UNetKey(const std::string& key,
                                    int layers_per_block,
                                    const std::string& source) {
  static const std::pair<const char*, const char*> kFixed[] = {
      {"time_embed.0.", "time_embedding.linear_1."},
      {"time_embed.2.", "time_embedding.linear_2."},
      {"input_blocks.0.0.", "conv_in."},
      {"out.0.", "conv_norm_out."},
      {"out.2.", "conv_out."},
  };
  for (const auto& [from, to] : kFixed) {
    if (absl::StartsWith(key, from)) {
      return absl::StrCat(to, key.substr(strlen(from)));
    }
  }
  int i = 0, j = 0;
  std::string rest;
  const int per_level = layers_per_block + 1;
  if (SplitIndexed(key, "input_blocks.", &i, &j, &rest) && i >= 1) {
    const int level = (i - 1) / per_level, layer = (i - 1) % per_level;
    if (layer == layers_per_block) {
      return absl::StrCat("down_blocks.", level, ".downsamplers.0.",
                          absl::StrReplaceAll(rest, {{"op.", "conv."}}));
    }
    if (j == 0) {
      return absl::StrCat("down_blocks.", level, ".resnets.", layer, ".",
                          ResnetNames(rest));
    }
    return absl::StrCat("down_blocks.", level, ".attentions.", layer, ".",
                        rest);
  }
  if (absl::StartsWith(key, "middle_block.")) {
    // middle_block.{0,2} are the resnets, middle_block.1 the attention.
    std::vector<std::string> parts =
        absl::StrSplit(key, absl::MaxSplits('.', 2));
    if (parts.size() == 3 && absl::SimpleAtoi(parts[1], &i) && i <= 2) {
      if (i == 1) return absl::StrCat("mid_block.attentions.0.", parts[2]);
      return absl::StrCat("mid_block.resnets.", i / 2, ".",
                          ResnetNames(parts[2]));
    }
  }
  if (SplitIndexed(key, "output_blocks.", &i, &j, &rest)) {
    const int level = i / per_level, layer = i % per_level;
    if (j == 0) {
      return absl::StrCat("up_blocks.", level, ".resnets.", layer, ".",
                          ResnetNames(rest));
    }
    // The upsampler is a lone ".conv"; an attention has norm/proj/blocks.
    if (absl::StartsWith(rest, "conv.")) {
      return absl::StrCat("up_blocks.", level, ".upsamplers.0.", rest);
    }
    return absl::StrCat("up_blocks.", level, ".attentions.", layer, ".", rest);
  }
  return NoPattern(source, key);
}

absl::StatusOr<std::string> VaeKey(const std::string& key, int levels,
                                   const std::string& source) {
  if (absl::StartsWith(key, "post_quant_conv.")) return key;
  absl::string_view k = key;
  if (!absl::ConsumePrefix(&k, "decoder.")) return std::string();  // encoder
  static const std::pair<const char*, const char*> kFixed[] = {
      {"mid.block_1.", "mid_block.resnets.0."},
      {"mid.block_2.", "mid_block.resnets.1."},
      {"norm_out.", "conv_norm_out."},
  };
  for (const auto& [from, to] : kFixed) {
    if (absl::StartsWith(k, from)) {
      return absl::StrCat("decoder.", to, k.substr(strlen(from)));
    }
  }
  if (absl::ConsumePrefix(&k, "mid.attn_1.")) {
    return absl::StrCat("decoder.mid_block.attentions.0.",
                        absl::StrReplaceAll(k, {{"norm.", "group_norm."},
                                                {"q.", "to_q."},
                                                {"k.", "to_k."},
                                                {"v.", "to_v."},
                                                {"proj_out.", "to_out.0."}}));
  }
  int level = 0;
  std::string rest;
  std::vector<absl::string_view> parts =
      absl::StrSplit(k, absl::MaxSplits('.', 2));
  if (parts.size() == 3 && parts[0] == "up" &&
      absl::SimpleAtoi(parts[1], &level) && level < levels) {
    // LDM counts decoder levels from the bottom, diffusers from the top.
    const int up = levels - 1 - level;
    absl::string_view tail = parts[2];
    if (absl::ConsumePrefix(&tail, "upsample.")) {
      return absl::StrCat("decoder.up_blocks.", up, ".upsamplers.0.", tail);
    }
    if (absl::ConsumePrefix(&tail, "block.")) {
      return absl::StrCat("decoder.up_blocks.", up, ".resnets.",
                          ResnetNames(tail));
    }
  }
  if (absl::StartsWith(k, "conv_in.") || absl::StartsWith(k, "conv_out.")) {
    return absl::StrCat("decoder.", k);
  }
  return NoPattern(source, key);
}

}  // namespace

bool IsLdmCheckpoint(const TensorMap& tensors) {
  for (const auto& [key, t] : tensors) {
    if (absl::StartsWith(key, kUNetPrefix)) return true;
  }
  return false;
}

absl::StatusOr<SplitCheckpoint> ConvertLdmCheckpoint(
    const TensorMap& tensors, int layers_per_block, const std::string& source) {
  SplitCheckpoint out;
  int vae_levels = 0;
  for (const auto& [key, t] : tensors) {
    absl::string_view k = key;
    int level = 0;
    if (absl::ConsumePrefix(&k, "first_stage_model.decoder.up.")) {
      std::vector<absl::string_view> parts = absl::StrSplit(k, '.');
      if (absl::SimpleAtoi(parts[0], &level)) {
        vae_levels = std::max(vae_levels, level + 1);
      }
    }
  }
  for (const auto& [key, tensor] : tensors) {
    absl::string_view k = key;
    if (absl::ConsumePrefix(&k, kUNetPrefix)) {
      absl::StatusOr<std::string> name =
          UNetKey(std::string(k), layers_per_block, source);
      if (!name.ok()) return name.status();
      out.unet[*name] = tensor;
    } else if (absl::ConsumePrefix(&k, kVaePrefix)) {
      absl::StatusOr<std::string> name =
          VaeKey(std::string(k), vae_levels, source);
      if (!name.ok()) return name.status();
      if (name->empty()) continue;
      // LDM's VAE attention projections are 1x1 convolutions.
      out.vae[*name] =
          absl::StrContains(*name, "attentions.0.to_") && tensor.dim() == 4
              ? tensor.flatten(1)
              : tensor;
    } else if (absl::ConsumePrefix(&k, kTextPrefix)) {
      out.text_encoder[std::string(k)] = tensor;
    }
    // Anything else (EMA copies, optimizer state) is not part of a render.
  }
  if (out.unet.empty() || out.vae.empty() || out.text_encoder.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source,
        ": a single-file checkpoint needs UNet, VAE and text encoder "
        "tensors"));
  }
  return out;
}

bool IsOriginalMotionModule(const TensorMap& tensors) {
  for (const auto& [key, t] : tensors) {
    if (absl::StrContains(key, ".temporal_transformer.")) return true;
  }
  return false;
}

absl::StatusOr<TensorMap> ConvertOriginalMotionModule(const TensorMap& tensors,
                                                      const std::string& source,
                                                      int64_t* max_seq_length) {
  TensorMap out;
  *max_seq_length = 0;
  for (const auto& [key, tensor] : tensors) {
    if (absl::EndsWith(key, ".pos_encoder.pe")) {
      if (tensor.dim() == 3) *max_seq_length = tensor.size(1);
      continue;
    }
    if (!absl::StrContains(key, ".motion_modules.")) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": tensor '", key, "' is not part of a motion module"));
    }
    out[absl::StrReplaceAll(key, {{".temporal_transformer.", "."},
                                  {".attention_blocks.0.", ".attn1."},
                                  {".attention_blocks.1.", ".attn2."},
                                  {".norms.0.", ".norm1."},
                                  {".norms.1.", ".norm2."},
                                  {".ff_norm.", ".norm3."}})] = tensor;
  }
  return out;
}

}  // namespace reelfarm::pipeline
