#include "node/pipeline/weights/lora.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace reelfarm::pipeline {
namespace {

enum class Role { kDown, kUp, kAlpha };

// The suffixes that name a LoRA tensor's role, in the layouts of lora.h.
// "_lora.down.weight" is the attention-processor style (processor.to_q_lora).
constexpr std::pair<const char*, Role> kSuffixes[] = {
    {".lora_down.weight", Role::kDown},
    {".lora_up.weight", Role::kUp},
    {".lora.down.weight", Role::kDown},
    {".lora.up.weight", Role::kUp},
    {".lora_A.weight", Role::kDown},
    {".lora_B.weight", Role::kUp},
    {".lora_linear_layer.down.weight", Role::kDown},
    {".lora_linear_layer.up.weight", Role::kUp},
    {"_lora.down.weight", Role::kDown},
    {"_lora.up.weight", Role::kUp},
    {".alpha", Role::kAlpha},
};

// One model the file may patch, with the lookups its keys need.
struct Target {
  const char* name;  // "UNet", "text encoder", "motion modules"
  TensorMap* weights = nullptr;
  // Weight names with '.' written as '_' (kohya's names), minus ".weight";
  // an empty value marks two weights that collide that way.
  std::map<std::string, std::string> underscored;
  int layers_per_block = 2;
};

void Index(Target* target) {
  if (target->weights == nullptr) return;
  int max_resnet = -1;
  for (const auto& [key, t] : *target->weights) {
    absl::string_view k = key;
    if (!absl::ConsumeSuffix(&k, ".weight")) continue;
    std::string flat = absl::StrReplaceAll(k, {{".", "_"}});
    auto [it, inserted] = target->underscored.emplace(flat, key);
    if (!inserted) it->second.clear();
    absl::string_view r = key;
    int n = 0;
    if (absl::ConsumePrefix(&r, "down_blocks.0.resnets.") &&
        absl::SimpleAtoi(r.substr(0, r.find('.')), &n)) {
      max_resnet = std::max(max_resnet, n);
    }
  }
  if (max_resnet >= 0) target->layers_per_block = max_resnet + 1;
}

// "12_rest" -> 12, leaving "rest".
bool ConsumeIndex(absl::string_view* s, int* out) {
  size_t n = 0;
  while (n < s->size() && std::isdigit(static_cast<unsigned char>((*s)[n]))) {
    ++n;
  }
  if (n == 0 || !absl::SimpleAtoi(s->substr(0, n), out)) return false;
  s->remove_prefix(n);
  return s->empty() || absl::ConsumePrefix(s, "_");
}

std::string ResnetPart(absl::string_view rest) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"in_layers_0", "norm1"},          {"in_layers_2", "conv1"},
      {"out_layers_0", "norm2"},         {"out_layers_3", "conv2"},
      {"emb_layers_1", "time_emb_proj"}, {"skip_connection", "conv_shortcut"},
  };
  for (const auto& [from, to] : kNames) {
    if (rest == from) return to;
  }
  return std::string(rest);
}

// A kohya module name in LDM's layout, as SGM-based trainers write it
// ("input_blocks_4_1_proj_in"), in diffusers' layout with '_' separators
// ("down_blocks_1_attentions_0_proj_in"); nullopt when it is not LDM's.
// The block arithmetic is ConvertLdmCheckpoint's.
std::optional<std::string> LdmToDiffusers(absl::string_view name,
                                          int layers_per_block) {
  static const std::pair<const char*, const char*> kFixed[] = {
      {"time_embed_0", "time_embedding_linear_1"},
      {"time_embed_2", "time_embedding_linear_2"},
      {"input_blocks_0_0", "conv_in"},
      {"out_2", "conv_out"},
  };
  for (const auto& [from, to] : kFixed) {
    if (name == from) return std::string(to);
  }
  const int per_level = layers_per_block + 1;
  int i = 0, j = 0;
  absl::string_view rest = name;
  if (absl::ConsumePrefix(&rest, "input_blocks_") && ConsumeIndex(&rest, &i) &&
      ConsumeIndex(&rest, &j) && i >= 1) {
    const int level = (i - 1) / per_level, layer = (i - 1) % per_level;
    if (layer == layers_per_block) {
      return absl::StrCat("down_blocks_", level, "_downsamplers_0_",
                          rest == "op" ? "conv" : rest);
    }
    if (j == 0) {
      return absl::StrCat("down_blocks_", level, "_resnets_", layer, "_",
                          ResnetPart(rest));
    }
    return absl::StrCat("down_blocks_", level, "_attentions_", layer, "_",
                        rest);
  }
  rest = name;
  if (absl::ConsumePrefix(&rest, "middle_block_") && ConsumeIndex(&rest, &i) &&
      i <= 2) {
    if (i == 1) return absl::StrCat("mid_block_attentions_0_", rest);
    return absl::StrCat("mid_block_resnets_", i / 2, "_", ResnetPart(rest));
  }
  rest = name;
  if (absl::ConsumePrefix(&rest, "output_blocks_") && ConsumeIndex(&rest, &i) &&
      ConsumeIndex(&rest, &j)) {
    const int level = i / per_level, layer = i % per_level;
    if (j == 0) {
      return absl::StrCat("up_blocks_", level, "_resnets_", layer, "_",
                          ResnetPart(rest));
    }
    // The upsampler is a lone "conv"; attentions have longer names.
    if (rest == "conv")
      return absl::StrCat("up_blocks_", level, "_upsamplers_0_conv");
    return absl::StrCat("up_blocks_", level, "_attentions_", layer, "_", rest);
  }
  return std::nullopt;
}

// The weight a kohya module name patches, or "" when none does.
absl::StatusOr<std::string> KohyaTarget(const Target& target,
                                        absl::string_view name,
                                        const std::string& source,
                                        const std::string& key) {
  std::string flat(name);
  auto it = target.underscored.find(flat);
  if (it == target.underscored.end()) {
    std::optional<std::string> ldm =
        LdmToDiffusers(name, target.layers_per_block);
    if (!ldm.has_value()) return std::string();
    it = target.underscored.find(*ldm);
    if (it == target.underscored.end()) return std::string();
  }
  if (it->second.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": LoRA key '", key, "' matches several ",
                     target.name, " weights once '.' is read as '_'"));
  }
  return it->second;
}

// A dotted module path ("unet.down_blocks.0....attn1.processor.to_out") as
// the weight it patches in `target`, or "" when there is none.
std::string DottedTarget(const Target& target, std::string path, bool motion) {
  if (target.weights == nullptr) return "";
  path = absl::StrReplaceAll(path, {{".processor.", "."}});
  // Attention processors name the output projection to_out; the layer is
  // to_out.0 (some trainers already write to_out.0).
  if (absl::EndsWith(path, ".to_out")) absl::StrAppend(&path, ".0");
  if (motion) {
    // guoyww's names, as ConvertOriginalMotionModule renames them.
    path = absl::StrReplaceAll(path, {{".temporal_transformer.", "."},
                                      {".attention_blocks.0.", ".attn1."},
                                      {".attention_blocks.1.", ".attn2."}});
  }
  std::string key = absl::StrCat(path, ".weight");
  if (target.weights->count(key)) return key;
  return "";
}

// One LoRA module of the file, grouped by the weight it patches.
struct Module {
  Target* target = nullptr;
  std::string weight;  // the patched weight's name
  torch::Tensor down, up, alpha;
  std::string down_key, up_key, alpha_key;
};

std::string Shape(const torch::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]");
}

// The per-output shape of a weight: a linear's [in], a convolution's
// [in, kh, kw]; a 1x1 convolution counts as a linear, as kohya's
// LoRA treats proj_in either way.
std::vector<int64_t> InShape(const torch::Tensor& t) {
  std::vector<int64_t> s(t.sizes().begin() + 1, t.sizes().end());
  if (s.size() == 3 && s[1] == 1 && s[2] == 1) s.resize(1);
  return s;
}

// The update up @ down shaped like the weight, or an error naming the keys.
absl::StatusOr<torch::Tensor> Delta(const Module& m, const torch::Tensor& w,
                                    const std::string& source) {
  auto misfit = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": LoRA '", m.down_key, "' ", Shape(m.down), " / '", m.up_key,
        "' ", Shape(m.up), " does not fit ", m.target->name, " weight '",
        m.weight, "' ", Shape(w), ": ", why));
  };
  const auto& down = m.down;
  const auto& up = m.up;
  if ((down.dim() != 2 && down.dim() != 4) ||
      (up.dim() != 2 && up.dim() != 4)) {
    return misfit("down and up must be 2-D or 4-D");
  }
  if (up.dim() == 4 && (up.size(2) != 1 || up.size(3) != 1)) {
    return misfit("lora_up must be a 1x1 convolution");
  }
  if (up.size(1) != down.size(0)) {
    return misfit("lora_up's rank differs from lora_down's");
  }
  if (up.size(0) != w.size(0)) return misfit("output channels differ");
  if (w.dim() != 2 && w.dim() != 4)
    return misfit("not a linear or conv weight");
  if (InShape(down) != InShape(w)) return misfit("input shapes differ");
  // kohya's 3x3 merge, conv2d(down^T, up)^T, is this same contraction over
  // the rank.
  return up.flatten(1).matmul(down.flatten(1)).view(w.sizes());
}

// Why a set of unused keys may not be an image LoRA, for the error.
std::string Hint(const std::vector<std::string>& unused, bool motion) {
  for (const std::string& k : unused) {
    if (absl::StartsWith(k, "lora_te1_") || absl::StartsWith(k, "lora_te2_")) {
      return " (an SDXL LoRA? only SD 1.x is supported)";
    }
    if (absl::StrContains(k, "hada_") || absl::StrContains(k, "lokr_")) {
      return " (LyCORIS LoHa/LoKr modules are not supported)";
    }
    if (!motion && absl::StrContains(k, "motion_modules")) {
      return " (a MotionLoRA? list it under motion_module_lora_configs)";
    }
  }
  return "";
}

absl::Status Merge(const TensorMap& lora, double scale, Target* unet,
                   Target* text, bool motion, const std::string& source) {
  Index(unet);
  Index(text);
  std::map<std::pair<Target*, std::string>, Module> modules;
  std::vector<std::string> unused;
  for (const auto& [key, tensor] : lora) {
    std::optional<Role> role;
    absl::string_view base = key;
    for (const auto& [suffix, r] : kSuffixes) {
      if (absl::ConsumeSuffix(&base, suffix)) {
        role = r;
        break;
      }
    }
    Target* target = nullptr;
    std::string weight;
    absl::string_view name = base;
    if (!role.has_value()) {
      // Not a LoRA tensor at all.
    } else if (absl::ConsumePrefix(&name, "lora_unet_") ||
               absl::ConsumePrefix(&name, "lora_te_")) {
      target = absl::StartsWith(base, "lora_unet_") ? unet : text;
      if (target->weights != nullptr) {
        absl::StatusOr<std::string> found =
            KohyaTarget(*target, name, source, key);
        if (!found.ok()) return found.status();
        weight = *found;
      }
    } else {
      absl::ConsumePrefix(&name, "base_model.model.");
      if (absl::ConsumePrefix(&name, "text_encoder.") ||
          absl::StartsWith(name, "text_model.")) {
        target = text;
        weight = DottedTarget(*target, std::string(name), motion);
        // Some text encoder LoRAs leave out CLIPTextModel's "text_model.".
        if (weight.empty()) {
          weight =
              DottedTarget(*target, absl::StrCat("text_model.", name), motion);
        }
      } else {
        absl::ConsumePrefix(&name, "unet.");
        target = unet;
        weight = DottedTarget(*target, std::string(name), motion);
      }
    }
    if (weight.empty()) {
      unused.push_back(key);
      continue;
    }
    Module& m = modules[{target, weight}];
    m.target = target;
    m.weight = weight;
    torch::Tensor* slot = *role == Role::kDown ? &m.down
                          : *role == Role::kUp ? &m.up
                                               : &m.alpha;
    std::string* slot_key = *role == Role::kDown ? &m.down_key
                            : *role == Role::kUp ? &m.up_key
                                                 : &m.alpha_key;
    if (slot->defined()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": LoRA keys '", *slot_key, "' and '", key, "' both patch ",
          target->name, " weight '", weight, "'"));
    }
    *slot = tensor;
    *slot_key = key;
  }
  if (!unused.empty()) {
    std::vector<std::string> some(
        unused.begin(), unused.begin() + std::min<size_t>(unused.size(), 5));
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", unused.size(), " of ", lora.size(),
                     " LoRA keys fit no weight of the ",
                     motion ? "motion modules"
                            : (text->weights ? "UNet or text encoder" : "UNet"),
                     Hint(unused, motion), ", e.g. '",
                     absl::StrJoin(some, "', '"), "'; nothing was merged"));
  }
  if (modules.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no LoRA tensors in the file"));
  }
  // Check everything before changing anything.
  std::vector<std::pair<Module*, torch::Tensor>> updates;
  for (auto& [id, m] : modules) {
    if (!m.down.defined() || !m.up.defined()) {
      const std::string& have = m.down.defined() ? m.down_key
                                : m.up.defined() ? m.up_key
                                                 : m.alpha_key;
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": LoRA key '", have, "' has no ",
                       m.down.defined() ? "up" : "down", " partner (for ",
                       m.target->name, " weight '", m.weight, "')"));
    }
    const torch::Tensor& w = m.target->weights->at(m.weight);
    absl::StatusOr<torch::Tensor> delta = Delta(m, w, source);
    if (!delta.ok()) return delta.status();
    const double rank = static_cast<double>(m.down.size(0));
    double alpha = rank;
    if (m.alpha.defined()) {
      if (m.alpha.numel() != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": LoRA alpha '", m.alpha_key,
                         "' is not a scalar ", Shape(m.alpha)));
      }
      alpha = m.alpha.to(torch::kFloat64).item<double>();
    }
    updates.emplace_back(&m, *delta * (scale * alpha / rank));
  }
  if (scale == 0) return absl::OkStatus();  // bit-for-bit the base weights
  for (auto& [m, delta] : updates) {
    torch::Tensor& w = (*m->target->weights)[m->weight];
    // Out of place: the map's tensor may be shared with a loaded file.
    w = (w + delta.to(w.dtype())).contiguous();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MergeLora(const TensorMap& lora, double scale, TensorMap* unet,
                       TensorMap* text_encoder, const std::string& source) {
  Target u{"UNet", unet}, t{"text encoder", text_encoder};
  return Merge(lora, scale, &u, &t, /*motion=*/false, source);
}

absl::Status MergeMotionLora(const TensorMap& lora, double scale,
                             TensorMap* motion_weights,
                             const std::string& source) {
  Target m{"motion module", motion_weights}, none{"text encoder", nullptr};
  return Merge(lora, scale, &m, &none, /*motion=*/true, source);
}

}  // namespace reelfarm::pipeline
