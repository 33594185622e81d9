#include "sweep/model_keys.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "sweep/model_digest.h"
#include "sweep/scalars.h"
#include "sweep/suggest.h"

namespace reelfarm::config {
namespace {

constexpr absl::string_view kDefaultPretrained =
    "models/StableDiffusion/stable-diffusion-v1-5";
constexpr absl::string_view kDefaultInferenceConfig =
    "configs/inference/inference-v1.yaml";

// motion_module_lora_configs: a list of {path, alpha}, both required as in
// AnimateDiff's load_weights.
absl::Status ReadMotionLoras(const MapEntry& entry, LoadContext& ctx,
                             v1::ModelSet* models) {
  const YamlSource& src = ctx.source;
  if (!entry.value.IsSequence()) {
    return src.Error(entry,
                     absl::StrCat("must be a list of {path, alpha}, got ",
                                  Describe(entry.value)));
  }
  for (const YAML::Node& item : entry.value) {
    if (!item.IsMap()) {
      return src.Error(item, entry.key,
                       absl::StrCat("each item must be a map {path, alpha}, "
                                    "got ",
                                    Describe(item)));
    }
    absl::StatusOr<std::vector<MapEntry>> fields =
        MapEntries(item, src, entry.key);
    if (!fields.ok()) return fields.status();
    const MapEntry* path = nullptr;
    const MapEntry* alpha = nullptr;
    for (const MapEntry& f : *fields) {
      if (f.key == "path") {
        path = &f;
      } else if (f.key == "alpha") {
        alpha = &f;
      } else {
        return src.Error(f.key_node, entry.key,
                         UnknownKeyMessage(f.key, {"path", "alpha"}));
      }
    }
    if (path == nullptr || alpha == nullptr) {
      return src.Error(item, entry.key,
                       absl::StrCat("missing required key '",
                                    path == nullptr ? "path" : "alpha", "'"));
    }
    absl::StatusOr<v1::ModelRef> model =
        ReadModelPath(path->value, "motion_module_lora_configs.path", ctx);
    if (!model.ok()) return model.status();
    if (model->path().empty()) {
      return src.Error(*path, "must not be empty");
    }
    absl::StatusOr<double> a =
        ReadFiniteReal(alpha->value, "motion_module_lora_configs.alpha", src);
    if (!a.ok()) return a.status();
    v1::LoraRef* lora = models->add_motion_loras();
    *lora->mutable_model() = *std::move(model);
    lora->set_alpha(*a);
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<absl::string_view>& ModelKeys() {
  static const auto* keys = new std::vector<absl::string_view>{
      "pretrained_model_path",      "motion_module",     "dreambooth_path",
      "inference_config",           "lora_model_path",   "lora_alpha",
      "motion_module_lora_configs", "adapter_lora_path", "adapter_lora_scale",
  };
  return *keys;
}

bool IsModelKey(absl::string_view key) {
  for (absl::string_view k : ModelKeys()) {
    if (k == key) return true;
  }
  return false;
}

absl::StatusOr<v1::ModelRef> ResolveModelPath(
    const std::string& written, const std::string& where,
    absl::string_view field, const LoadContext& ctx,
    const std::filesystem::path* base_dir, absl::string_view note) {
  v1::ModelRef ref;
  if (written.empty()) return ref;
  ref.set_path(
      AbsolutePath(base_dir ? *base_dir : ctx.model_base_dir, written));
  if (!ctx.options.check_model_paths) return ref;
  const std::string shown =
      note.empty() ? written : absl::StrCat(written, " ", note);
  struct stat st;
  if (::stat(ref.path().c_str(), &st) != 0) {
    return ctx.source.ErrorAt(
        where, field,
        absl::StrCat("cannot read ", shown, ": ", std::strerror(errno)),
        absl::StatusCode::kNotFound);
  }
  absl::StatusOr<std::string> digest = DigestModelPath(ref.path());
  if (!digest.ok()) {
    return ctx.source.ErrorAt(
        where, field,
        absl::StrCat("cannot read ", shown, ": ", digest.status().message()),
        absl::StatusCode::kNotFound);
  }
  ref.set_digest(*std::move(digest));
  return ref;
}

absl::StatusOr<v1::ModelRef> ReadModelPath(const YAML::Node& node,
                                           absl::string_view field,
                                           const LoadContext& ctx) {
  if (!node.IsDefined() || !node.IsScalar()) {
    return ctx.source.Error(
        node, field,
        absl::StrCat("must be a path (a string), got ", Describe(node)));
  }
  return ResolveModelPath(node.Scalar(), ctx.source.Where(node), field, ctx);
}

absl::Status ReadModelSet(const std::vector<MapEntry>& entries,
                          LoadContext& ctx, v1::ModelSet* models) {
  std::map<absl::string_view, const MapEntry*> by_key;
  for (const MapEntry& e : entries) {
    if (IsModelKey(e.key)) by_key[e.key] = &e;
  }
  auto find = [&](absl::string_view key) -> const MapEntry* {
    auto it = by_key.find(key);
    return it == by_key.end() ? nullptr : it->second;
  };
  // Plain single-file keys.
  const std::pair<absl::string_view, v1::ModelRef* (v1::ModelSet::*)()>
      singles[] = {
          {"pretrained_model_path", &v1::ModelSet::mutable_base},
          {"motion_module", &v1::ModelSet::mutable_motion_module},
          {"dreambooth_path", &v1::ModelSet::mutable_dreambooth},
          {"inference_config", &v1::ModelSet::mutable_inference_config},
      };
  for (const auto& [key, mutable_ref] : singles) {
    const MapEntry* e = find(key);
    if (e == nullptr) continue;
    absl::StatusOr<v1::ModelRef> ref = ReadModelPath(e->value, key, ctx);
    if (!ref.ok()) return ref.status();
    if (!ref->path().empty()) *(models->*mutable_ref)() = *std::move(ref);
  }

  double lora_alpha = kDefaultLoraAlpha;
  if (const MapEntry* e = find("lora_alpha")) {
    absl::StatusOr<double> a = ReadFiniteReal(e->value, e->key, ctx.source);
    if (!a.ok()) return a.status();
    lora_alpha = *a;
  }
  if (const MapEntry* e = find("lora_model_path")) {
    absl::StatusOr<v1::ModelRef> ref = ReadModelPath(e->value, e->key, ctx);
    if (!ref.ok()) return ref.status();
    // "" means no LoRA, as in AnimateDiff's configs.
    if (!ref->path().empty()) {
      v1::LoraRef* lora = models->add_loras();
      *lora->mutable_model() = *std::move(ref);
      lora->set_alpha(lora_alpha);
    }
  }

  if (const MapEntry* e = find("motion_module_lora_configs")) {
    absl::Status st = ReadMotionLoras(*e, ctx, models);
    if (!st.ok()) return st;
  }

  double adapter_scale = kDefaultAdapterScale;
  if (const MapEntry* e = find("adapter_lora_scale")) {
    absl::StatusOr<double> s = ReadFiniteReal(e->value, e->key, ctx.source);
    if (!s.ok()) return s.status();
    adapter_scale = *s;
  }
  if (const MapEntry* e = find("adapter_lora_path")) {
    absl::StatusOr<v1::ModelRef> ref = ReadModelPath(e->value, e->key, ctx);
    if (!ref.ok()) return ref.status();
    if (!ref->path().empty()) {
      *models->mutable_adapter_lora()->mutable_model() = *std::move(ref);
      models->mutable_adapter_lora()->set_alpha(adapter_scale);
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyModelFlags(const std::string& where,
                             bool animatediff_defaults, LoadContext& ctx,
                             v1::ModelSet* models) {
  struct Fallback {
    absl::string_view field;
    const std::string& flag;
    absl::string_view flag_name;
    absl::string_view builtin;
    v1::ModelRef* (v1::ModelSet::*mutable_ref)();
    bool (v1::ModelSet::*has)() const;
  };
  const Fallback fallbacks[] = {
      {"pretrained_model_path", ctx.options.pretrained_model_path,
       "--pretrained-model-path", kDefaultPretrained,
       &v1::ModelSet::mutable_base, &v1::ModelSet::has_base},
      {"inference_config", ctx.options.inference_config, "--inference-config",
       kDefaultInferenceConfig, &v1::ModelSet::mutable_inference_config,
       &v1::ModelSet::has_inference_config},
  };
  for (const Fallback& f : fallbacks) {
    if ((models->*f.has)()) continue;
    std::string path = f.flag;
    std::string note = absl::StrCat("(from ", f.flag_name, ")");
    if (path.empty() && animatediff_defaults) {
      path = std::string(f.builtin);
      note = absl::StrCat("(AnimateDiff's default; set ", f.flag_name, ")");
    }
    if (path.empty()) continue;
    absl::StatusOr<v1::ModelRef> ref =
        ResolveModelPath(path, where, f.field, ctx, &ctx.cwd, note);
    if (!ref.ok()) return ref.status();
    *(models->*f.mutable_ref)() = *std::move(ref);
  }
  return absl::OkStatus();
}

}  // namespace reelfarm::config
