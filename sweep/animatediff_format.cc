#include "sweep/animatediff_format.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sweep/render_fields.h"
#include "sweep/field_values.h"
#include "sweep/model_keys.h"
#include "sweep/output_settings.h"
#include "sweep/scalars.h"
#include "sweep/suggest.h"

namespace reelfarm::config {
namespace {

const std::vector<absl::string_view> kRenderKeys = {"prompt",
                                                    "n_prompt",
                                                    "seed",
                                                    "steps",
                                                    "guidance_scale",
                                                    "W",
                                                    "H",
                                                    "L",
                                                    "scheduler",
                                                    "context_length",
                                                    "context_stride",
                                                    "context_fuse",
                                                    "context_loop",
                                                    "free_noise",
                                                    "devices_per_video",
                                                    "split_frames"};
// Entry keys that set one value each (frame size and prompts aside).
const std::vector<absl::string_view> kScalarKeys = {
    "steps",          "guidance_scale", "scheduler",
    "context_length", "context_stride", "context_fuse",
    "context_loop",   "free_noise",     "devices_per_video",
    "split_frames"};
const std::vector<absl::string_view> kV1Keys = {"base", "path"};
const std::vector<absl::string_view> kIgnoredKeys = {"domain_lora_scale",
                                                     "random_seed"};
const std::vector<absl::string_view> kSparseCtrlKeys = {
    "controlnet_path", "controlnet_config", "controlnet_images",
    "controlnet_image_indexs", "normalize_condition_images"};

bool In(const std::vector<absl::string_view>& list, absl::string_view key) {
  for (absl::string_view k : list) {
    if (k == key) return true;
  }
  return false;
}

std::vector<absl::string_view> KnownKeys() {
  std::vector<absl::string_view> all;
  for (const auto* list : {&kRenderKeys, &ModelKeys(), &kV1Keys, &kIgnoredKeys,
                           &kSparseCtrlKeys}) {
    all.insert(all.end(), list->begin(), list->end());
  }
  return all;
}

// The key's canonical spelling: render-field aliases ("negative_prompt",
// "width") read as AnimateDiff's names.
std::string Canonical(absl::string_view key) {
  const RenderField* field = FindRenderField(key);
  if (field != nullptr && In(kRenderKeys, field->name)) {
    return std::string(field->name);
  }
  return std::string(key);
}

// A prompt list: a YAML list of strings, or one string.
absl::StatusOr<v1::Axis> ReadTextList(absl::string_view name,
                                      const MapEntry& entry, LoadContext& ctx) {
  const RenderField& field = *FindRenderField(name);
  v1::Axis axis;
  axis.set_field(std::string(field.name));
  if (entry.value.IsScalar()) {
    absl::StatusOr<v1::AxisValue> v =
        ReadFieldValue(field, entry.value, ctx, 0);
    if (!v.ok()) return v.status();
    *axis.add_values() = *std::move(v);
    return axis;
  }
  if (!entry.value.IsSequence()) {
    return ctx.source.Error(
        entry,
        absl::StrCat("must be a list of strings, got ", Describe(entry.value)));
  }
  if (entry.value.size() == 0) {
    return ctx.source.Error(entry, "must not be an empty list");
  }
  for (const YAML::Node& item : entry.value) {
    absl::StatusOr<v1::AxisValue> v = ReadFieldValue(field, item, ctx, 0);
    if (!v.ok()) return v.status();
    *axis.add_values() = *std::move(v);
  }
  return axis;
}

// Seeds as written (nullopt = -1) with the node of each, for messages.
absl::StatusOr<std::vector<std::optional<uint64_t>>> ReadSeedList(
    const MapEntry& entry, const LoadContext& ctx) {
  std::vector<std::optional<uint64_t>> seeds;
  std::vector<YAML::Node> nodes;
  if (entry.value.IsSequence()) {
    if (entry.value.size() == 0) {
      return ctx.source.Error(entry, "must not be an empty list");
    }
    for (const YAML::Node& item : entry.value) nodes.push_back(item);
  } else if (entry.value.IsScalar()) {
    nodes.push_back(entry.value);
  } else {
    return ctx.source.Error(
        entry, absl::StrCat("must be an integer or a list of integers, got ",
                            Describe(entry.value)));
  }
  for (const YAML::Node& node : nodes) {
    absl::StatusOr<std::optional<uint64_t>> seed = ReadSeed(node, ctx);
    if (!seed.ok()) return seed.status();
    seeds.push_back(*seed);
  }
  return seeds;
}

// animate.py repeats a one-element list to the prompt count and zips the
// rest; a mismatch it would truncate silently is an error here.
absl::Status CheckPairing(const MapEntry& entry, size_t size, size_t prompts,
                          const LoadContext& ctx) {
  if (size == 1 || size == prompts) return absl::OkStatus();
  return ctx.source.Error(
      entry, absl::StrCat("has ", size, " values but prompt has ", prompts,
                          "; give one ", entry.key,
                          " per prompt, or a single one for all"));
}

// v1's base/path pair (see the header): path is the DreamBooth checkpoint,
// or, when base is set, a LoRA on top of base.
absl::Status ReadV1Weights(const MapEntry* base, const MapEntry* path,
                           const MapEntry* lora_alpha, LoadContext& ctx,
                           v1::ModelSet* models) {
  const YamlSource& src = ctx.source;
  std::string base_text, path_text;
  if (base != nullptr) {
    absl::StatusOr<std::string> t = ReadText(base->value, "base", src);
    if (!t.ok()) return t.status();
    base_text = *t;
  }
  if (path != nullptr) {
    absl::StatusOr<std::string> t = ReadText(path->value, "path", src);
    if (!t.ok()) return t.status();
    path_text = *t;
  }
  if (path_text.empty()) {
    if (!base_text.empty()) {
      ctx.Warn(base->value, "base",
               "ignored because path is empty (as AnimateDiff v1 did)");
    }
    return absl::OkStatus();
  }
  if (base_text.empty()) {
    absl::StatusOr<v1::ModelRef> ref = ReadModelPath(path->value, "path", ctx);
    if (!ref.ok()) return ref.status();
    *models->mutable_dreambooth() = *std::move(ref);
    return absl::OkStatus();
  }
  absl::StatusOr<v1::ModelRef> dreambooth =
      ReadModelPath(base->value, "base", ctx);
  if (!dreambooth.ok()) return dreambooth.status();
  absl::StatusOr<v1::ModelRef> lora = ReadModelPath(path->value, "path", ctx);
  if (!lora.ok()) return lora.status();
  double alpha = kDefaultLoraAlpha;
  if (lora_alpha != nullptr) {
    absl::StatusOr<double> a =
        ReadFiniteReal(lora_alpha->value, "lora_alpha", src);
    if (!a.ok()) return a.status();
    alpha = *a;
  }
  *models->mutable_dreambooth() = *std::move(dreambooth);
  v1::LoraRef* ref = models->add_loras();
  *ref->mutable_model() = *std::move(lora);
  ref->set_alpha(alpha);
  return absl::OkStatus();
}

absl::Status ReadEntry(const YAML::Node& node, const std::string& name,
                       const std::string& where, LoadContext& ctx,
                       v1::SweepBlock* block) {
  const YamlSource& src = ctx.source;
  const std::string what = absl::StrCat("entry '", name, "'");
  block->set_name(name);
  block->set_source_location(where);
  if (!node.IsMap()) {
    return src.ErrorAt(
        where, "",
        absl::StrCat(what, " must be a map of settings, got ", Describe(node)));
  }
  absl::StatusOr<std::vector<MapEntry>> entries = MapEntries(node, src, what);
  if (!entries.ok()) return entries.status();

  std::map<std::string, const MapEntry*> keys;  // by canonical name
  std::vector<MapEntry> model_entries;
  std::vector<const MapEntry*> sparse;
  for (const MapEntry& e : *entries) {
    const std::string key = Canonical(e.key);
    if (!In(kRenderKeys, key) && !IsModelKey(key) && !In(kV1Keys, key) &&
        !In(kIgnoredKeys, key) && !In(kSparseCtrlKeys, key)) {
      return src.Error(e.key_node, "", UnknownKeyMessage(e.key, KnownKeys()));
    }
    auto [prev, inserted] = keys.emplace(key, &e);
    if (!inserted) {
      return src.Error(
          e.key_node, key,
          absl::StrCat("set twice in ", what, " (also as '", prev->second->key,
                       "' at ", src.Where(prev->second->key_node), ")"));
    }
    if (In(kSparseCtrlKeys, key)) sparse.push_back(&e);
    // A motion_module list is an axis, read below.
    if (IsModelKey(key) && !(key == "motion_module" && e.value.IsSequence())) {
      model_entries.push_back(e);
    }
  }
  auto find = [&](absl::string_view key) -> const MapEntry* {
    auto it = keys.find(std::string(key));
    return it == keys.end() ? nullptr : it->second;
  };

  // Cheap checks first: a missing key beats a missing checkpoint.
  for (absl::string_view key : {"steps", "guidance_scale", "prompt"}) {
    if (find(key) == nullptr) {
      return src.ErrorAt(
          where, "",
          absl::StrCat(what, " is missing required key '", key, "'"));
    }
  }

  v1::RenderParams* base = block->mutable_base();
  v1::ModelSet* models = base->mutable_models();
  absl::Status st = ReadModelSet(model_entries, ctx, models);
  if (!st.ok()) return st;
  if (find("base") != nullptr || find("path") != nullptr) {
    const MapEntry* v1_key = find("path") ? find("path") : find("base");
    if (find("dreambooth_path") != nullptr ||
        find("lora_model_path") != nullptr) {
      return src.Error(v1_key->key_node, v1_key->key,
                       "AnimateDiff v1's base/path cannot be mixed with "
                       "dreambooth_path/lora_model_path");
    }
    st = ReadV1Weights(find("base"), find("path"), find("lora_alpha"), ctx,
                       models);
    if (!st.ok()) return st;
  }
  if (const MapEntry* mm = find("motion_module");
      mm && mm->value.IsSequence()) {
    const RenderField& field = *FindRenderField("motion_module");
    if (mm->value.size() == 0)
      return src.Error(*mm, "must not be an empty list");
    v1::Axis axis;
    axis.set_field("motion_module");
    for (const YAML::Node& item : mm->value) {
      absl::StatusOr<v1::AxisValue> v = ReadFieldValue(field, item, ctx, 0);
      if (!v.ok()) return v.status();
      *axis.add_values() = *std::move(v);
    }
    if (axis.values_size() == 1) {
      *models->mutable_motion_module() = axis.values(0).model();
    } else {
      *block->add_groups()->add_axes() = std::move(axis);
    }
  }
  st = ApplyModelFlags(where, ctx.animatediff_renderer(), ctx, models);
  if (!st.ok()) return st;

  // Entry scalars; W/H/L fall back to the flags, then animate.py's defaults.
  for (const FrameDimension& d : FrameDimensions(ctx.options)) {
    const RenderField& field = *FindRenderField(d.key);
    if (const MapEntry* e = find(d.key)) {
      absl::StatusOr<v1::AxisValue> v = ReadFieldValue(field, e->value, ctx, 0);
      if (!v.ok()) return v.status();
      ApplyValue(field, *v, base);
      continue;
    }
    absl::StatusOr<v1::AxisValue> v =
        IntegerValue(field, d.flag != 0 ? d.flag : d.builtin);
    if (!v.ok()) {
      return src.ErrorAt(
          where, d.key,
          absl::StrCat(v.status().message(), " (from ", d.flag_name, ")"));
    }
    ApplyValue(field, *v, base);
  }
  for (absl::string_view key : kScalarKeys) {
    const RenderField& field = *FindRenderField(key);
    const MapEntry* e = find(key);
    if (e == nullptr) continue;
    absl::StatusOr<v1::AxisValue> v = ReadFieldValue(field, e->value, ctx, 0);
    if (!v.ok()) return v.status();
    ApplyValue(field, *v, base);
  }
  if (find("scheduler") == nullptr) {
    base->set_scheduler(std::string(kDefaultScheduler));
  }

  // prompt, n_prompt and seed advance together.
  absl::StatusOr<v1::Axis> prompts =
      ReadTextList("prompt", *find("prompt"), ctx);
  if (!prompts.ok()) return prompts.status();
  const size_t n = prompts->values_size();
  v1::Axis n_prompts;
  n_prompts.set_field("n_prompt");
  if (const MapEntry* e = find("n_prompt")) {
    absl::StatusOr<v1::Axis> a = ReadTextList("n_prompt", *e, ctx);
    if (!a.ok()) return a.status();
    st = CheckPairing(*e, a->values_size(), n, ctx);
    if (!st.ok()) return st;
    n_prompts = *std::move(a);
  } else {
    n_prompts.add_values()->set_text("");
  }
  while (static_cast<size_t>(n_prompts.values_size()) < n) {
    *n_prompts.add_values() = n_prompts.values(0);
  }

  std::vector<std::optional<uint64_t>> seeds = {std::nullopt};
  const MapEntry* seed_entry = find("seed");
  if (seed_entry == nullptr) seed_entry = find("random_seed");
  if (seed_entry != nullptr) {
    absl::StatusOr<std::vector<std::optional<uint64_t>>> s =
        ReadSeedList(*seed_entry, ctx);
    if (!s.ok()) return s.status();
    st = CheckPairing(*seed_entry, s->size(), n, ctx);
    if (!st.ok()) return st;
    seeds = *std::move(s);
  }
  if (seeds.size() == 1) seeds.resize(n, seeds.front());
  v1::Axis seed_axis;
  seed_axis.set_field("seed");
  // One draw per prompt, as animate.py called torch.seed() per prompt.
  for (const std::optional<uint64_t>& seed : seeds) {
    seed_axis.add_values()->set_unsigned_integer(seed ? *seed : ctx.DrawSeed());
  }
  v1::AxisGroup* group = block->add_groups();
  *group->add_axes() = *std::move(prompts);
  *group->add_axes() = std::move(n_prompts);
  *group->add_axes() = std::move(seed_axis);

  if (const MapEntry* e = find("domain_lora_scale")) {
    absl::StatusOr<double> s = ReadFiniteReal(e->value, e->key, src);
    if (!s.ok()) return s.status();
    if (*s != 1.0) {
      ctx.Warn(e->value, e->key,
               "ignored (animate.py never read it); adapter_lora_scale sets "
               "the domain adapter's scale");
    }
  }
  if (!sparse.empty()) {
    std::vector<std::string> names;
    for (const MapEntry* e : sparse) names.push_back(e->key);
    ctx.Warn(sparse.front()->key_node, sparse.front()->key,
             absl::StrCat("SparseCtrl is not supported (",
                          absl::StrJoin(names, ", "), "); ", what,
                          " renders as plain text-to-video"));
  }
  return absl::OkStatus();
}

}  // namespace

bool LooksLikeAnimateDiffMap(const YAML::Node& root) {
  if (!root.IsMap()) return false;
  const std::vector<absl::string_view> known = KnownKeys();
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!it->second.IsMap()) continue;
    for (auto kv = it->second.begin(); kv != it->second.end(); ++kv) {
      if (kv->first.IsScalar() && In(known, kv->first.Scalar())) return true;
    }
  }
  return false;
}

absl::Status ReadAnimateDiffConfig(const YAML::Node& root, LoadContext& ctx) {
  const YamlSource& src = ctx.source;
  absl::Status st = ApplyRenderer("", src.Where(root), ctx);
  if (!st.ok()) return st;
  ApplyOutputDir("", ctx);
  ApplyDefaultOutputSettings(ctx);
  ctx.spec->mutable_sharding()->set_jobs_per_shard(1);
  ctx.spec->mutable_sharding()->set_group_by_models(true);
  if (root.IsSequence()) {
    if (root.size() == 0)
      return src.Error(root, "", "the config has no entries");
    for (size_t i = 0; i < root.size(); ++i) {
      st = ReadEntry(root[i], std::to_string(i), src.Where(root[i]), ctx,
                     ctx.spec->add_blocks());
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<MapEntry>> entries =
      MapEntries(root, src, "the config");
  if (!entries.ok()) return entries.status();
  for (const MapEntry& e : *entries) {
    st = ReadEntry(e.value, e.key, src.Where(e.key_node), ctx,
                   ctx.spec->add_blocks());
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace reelfarm::config
