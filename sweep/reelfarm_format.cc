#include "sweep/reelfarm_format.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "sweep/render_fields.h"
#include "sweep/axis_values.h"
#include "sweep/field_values.h"
#include "sweep/model_keys.h"
#include "sweep/output_settings.h"
#include "sweep/scalars.h"
#include "sweep/suggest.h"

namespace reelfarm::config {
namespace {

const std::vector<absl::string_view> kDefaultsKeys = {"prompt",
                                                      "n_prompt",
                                                      "seed",
                                                      "W",
                                                      "H",
                                                      "L",
                                                      "steps",
                                                      "guidance_scale",
                                                      "scheduler",
                                                      "context_length",
                                                      "context_stride",
                                                      "context_fuse",
                                                      "context_loop",
                                                      "free_noise",
                                                      "devices_per_video",
                                                      "split_frames"};

bool In(const std::vector<absl::string_view>& list, absl::string_view key) {
  for (absl::string_view k : list) {
    if (k == key) return true;
  }
  return false;
}

using TopLevel = std::map<std::string, const MapEntry*>;

const MapEntry* Find(const TopLevel& top, absl::string_view key) {
  auto it = top.find(std::string(key));
  return it == top.end() ? nullptr : it->second;
}

// Where each field was set, so a second place is an error.
class Placement {
 public:
  explicit Placement(const YamlSource& src) : src_(src) {}

  absl::Status Place(absl::string_view field, const MapEntry& entry,
                     absl::string_view section) {
    auto [it, inserted] = where_.emplace(
        std::string(field),
        absl::StrCat(section, " at ", src_.Where(entry.key_node)));
    if (inserted) return absl::OkStatus();
    return src_.Error(entry.key_node, entry.key,
                      absl::StrCat("already set in ", it->second,
                                   "; a field goes in only one of model, "
                                   "defaults, grid and zip"));
  }
  bool Has(absl::string_view field) const {
    return where_.count(std::string(field)) > 0;
  }
  std::string Section(absl::string_view field) const {
    auto it = where_.find(std::string(field));
    return it == where_.end() ? "" : it->second.substr(0, it->second.find(' '));
  }

 private:
  const YamlSource& src_;
  std::map<std::string, std::string> where_;
};

absl::StatusOr<std::vector<MapEntry>> SectionEntries(const MapEntry& section,
                                                     const YamlSource& src) {
  if (!section.value.IsMap()) {
    return src.Error(
        section, absl::StrCat("must be a map, got ", Describe(section.value)));
  }
  return MapEntries(section.value, src, section.key);
}

// Reads renderer.<key>, a test-pattern-only count of milliseconds.
absl::StatusOr<uint32_t> ReadRendererMs(const MapEntry& e,
                                        const LoadContext& ctx) {
  const YamlSource& src = ctx.source;
  const std::string field = absl::StrCat("renderer.", e.key);
  std::optional<WideInt> v = ParseInteger(e.value);
  if (!v || *v < 0 || *v > std::numeric_limits<uint32_t>::max()) {
    return src.Error(e.value, field,
                     absl::StrCat("must be a non-negative integer, got ",
                                  Describe(e.value)));
  }
  if (ctx.animatediff_renderer()) {
    return src.Error(e.key_node, field,
                     "applies only to the test-pattern renderer");
  }
  return static_cast<uint32_t>(*v);
}

absl::Status ReadRenderer(const MapEntry* entry, LoadContext& ctx) {
  const YamlSource& src = ctx.source;
  std::string name;
  const MapEntry* ms = nullptr;
  const MapEntry* load_ms = nullptr;
  std::vector<MapEntry> keys;
  if (entry != nullptr && entry->value.IsMap()) {
    absl::StatusOr<std::vector<MapEntry>> k = SectionEntries(*entry, src);
    if (!k.ok()) return k.status();
    keys = *std::move(k);
    for (const MapEntry& e : keys) {
      if (e.key == "name") {
        absl::StatusOr<std::string> t = ReadText(e.value, "renderer.name", src);
        if (!t.ok()) return t.status();
        name = *t;
      } else if (e.key == "ms_per_job") {
        ms = &e;
      } else if (e.key == "load_ms") {
        load_ms = &e;
      } else {
        return src.Error(
            e.key_node, "renderer",
            UnknownKeyMessage(e.key, {"name", "ms_per_job", "load_ms"}));
      }
    }
  } else if (entry != nullptr) {
    absl::StatusOr<std::string> t = ReadText(entry->value, "renderer", src);
    if (!t.ok()) return t.status();
    name = *t;
  }
  const std::string where =
      entry != nullptr ? src.Where(*entry) : src.Where(YAML::Mark());
  absl::Status st = ApplyRenderer(name, where, ctx);
  if (!st.ok()) return st;
  if (ms != nullptr) {
    absl::StatusOr<uint32_t> v = ReadRendererMs(*ms, ctx);
    if (!v.ok()) return v.status();
    ctx.spec->mutable_renderer()->set_test_pattern_ms_per_job(*v);
  }
  if (load_ms != nullptr) {
    absl::StatusOr<uint32_t> v = ReadRendererMs(*load_ms, ctx);
    if (!v.ok()) return v.status();
    ctx.spec->mutable_renderer()->set_test_pattern_load_ms(*v);
  }
  return absl::OkStatus();
}

// name, renderer, output, formats, video, gallery, max_attempts, sharding.
absl::Status ReadSettings(const TopLevel& top, LoadContext& ctx) {
  const YamlSource& src = ctx.source;
  v1::SweepSpec* spec = ctx.spec;
  if (const MapEntry* e = Find(top, "name")) {
    absl::StatusOr<std::string> name = ReadText(e->value, "name", src);
    if (!name.ok()) return name.status();
    // The name is the default output folder; keep it one plain component.
    if (name->empty() || *name == "." || *name == ".." ||
        name->find('/') != std::string::npos) {
      return src.Error(*e, "must be a non-empty name without '/'");
    }
    spec->set_name(*name);
  }
  absl::Status st = ReadRenderer(Find(top, "renderer"), ctx);
  if (!st.ok()) return st;
  std::string output;
  if (const MapEntry* e = Find(top, "output")) {
    absl::StatusOr<std::string> t = ReadText(e->value, "output", src);
    if (!t.ok()) return t.status();
    if (t->empty()) return src.Error(*e, "must not be empty");
    output = *t;
  }
  ApplyOutputDir(output, ctx);
  st = ReadOutputSettings(Find(top, "formats"), Find(top, "video"),
                          Find(top, "gallery"), ctx);
  if (!st.ok()) return st;
  if (const MapEntry* e = Find(top, "max_attempts")) {
    absl::StatusOr<uint32_t> v = ReadPositiveUint32(e->value, e->key, src);
    if (!v.ok()) return v.status();
    spec->set_max_attempts(*v);
  }
  spec->mutable_sharding()->set_jobs_per_shard(1);
  spec->mutable_sharding()->set_group_by_models(true);
  if (const MapEntry* e = Find(top, "sharding")) {
    absl::StatusOr<std::vector<MapEntry>> keys = SectionEntries(*e, src);
    if (!keys.ok()) return keys.status();
    for (const MapEntry& k : *keys) {
      const std::string field = absl::StrCat("sharding.", k.key);
      if (k.key == "jobs_per_shard") {
        absl::StatusOr<uint32_t> v = ReadPositiveUint32(k.value, field, src);
        if (!v.ok()) return v.status();
        spec->mutable_sharding()->set_jobs_per_shard(*v);
      } else if (k.key == "group_by_models") {
        absl::StatusOr<bool> v = ReadBool(k.value, field, src);
        if (!v.ok()) return v.status();
        spec->mutable_sharding()->set_group_by_models(*v);
      } else {
        return src.Error(
            k.key_node, "sharding",
            UnknownKeyMessage(k.key, {"jobs_per_shard", "group_by_models"}));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ReadModelSection(const MapEntry& section, Placement& placed,
                              LoadContext& ctx, v1::ModelSet* models,
                              double* lora_alpha) {
  const YamlSource& src = ctx.source;
  absl::StatusOr<std::vector<MapEntry>> keys = SectionEntries(section, src);
  if (!keys.ok()) return keys.status();
  for (const MapEntry& k : *keys) {
    if (!IsModelKey(k.key)) {
      if (FindRenderField(k.key) != nullptr) {
        return src.Error(k.key_node, k.key,
                         "not a model key; put it under 'defaults'");
      }
      return src.Error(k.key_node, "model",
                       UnknownKeyMessage(k.key, ModelKeys()));
    }
    if (k.key != "motion_module_lora_configs" && k.value.IsSequence()) {
      return src.Error(k,
                       "'model' takes one value; sweep several under "
                       "'grid' or 'zip'");
    }
    absl::Status st = placed.Place(k.key, k, "model");
    if (!st.ok()) return st;
    if (k.key == "lora_alpha") {
      absl::StatusOr<double> a = ReadFiniteReal(k.value, k.key, src);
      if (!a.ok()) return a.status();
      *lora_alpha = *a;
    }
  }
  return ReadModelSet(*keys, ctx, models);
}

absl::Status ReadDefaults(const MapEntry& section, Placement& placed,
                          LoadContext& ctx, v1::RenderParams* base) {
  const YamlSource& src = ctx.source;
  absl::StatusOr<std::vector<MapEntry>> keys = SectionEntries(section, src);
  if (!keys.ok()) return keys.status();
  for (const MapEntry& k : *keys) {
    const RenderField* field = FindRenderField(k.key);
    if (field == nullptr || !In(kDefaultsKeys, field->name)) {
      if (IsModelKey(k.key)) {
        return src.Error(k.key_node, k.key,
                         "model keys go under 'model', not 'defaults'");
      }
      return src.Error(k.key_node, "defaults",
                       UnknownKeyMessage(k.key, kDefaultsKeys));
    }
    if (k.value.IsSequence()) {
      return src.Error(k,
                       "'defaults' takes one value; sweep several under "
                       "'grid' or 'zip'");
    }
    absl::Status st = placed.Place(field->name, k, "defaults");
    if (!st.ok()) return st;
    absl::StatusOr<v1::AxisValue> v =
        ReadFieldValue(*field, k.value, ctx, kDefaultLoraAlpha);
    if (!v.ok()) return v.status();
    ApplyValue(*field, *v, base);
  }
  return absl::OkStatus();
}

// One grid map (each key its own group) or one zip map (one group).
absl::Status ReadAxes(const MapEntry& section, const YAML::Node& map,
                      bool zipped, Placement& placed, double lora_alpha,
                      LoadContext& ctx, v1::SweepBlock* block) {
  const YamlSource& src = ctx.source;
  if (!map.IsMap()) {
    return src.Error(
        map, section.key,
        absl::StrCat("must be a map of field: values, got ", Describe(map)));
  }
  absl::StatusOr<std::vector<MapEntry>> keys =
      MapEntries(map, src, section.key);
  if (!keys.ok()) return keys.status();
  if (keys->empty()) return src.Error(map, section.key, "must not be empty");
  std::vector<absl::string_view> names;
  for (const RenderField& f : RenderFields()) names.push_back(f.name);
  v1::AxisGroup zip_group;
  const MapEntry* first = nullptr;
  for (const MapEntry& k : *keys) {
    const RenderField* field = FindRenderField(k.key);
    if (field == nullptr) {
      return src.Error(k.key_node, section.key,
                       UnknownKeyMessage(k.key, names));
    }
    absl::Status st = placed.Place(field->name, k, section.key);
    if (!st.ok()) return st;
    // lora_alpha sets the strength of the LoRA already in place; swept
    // together with the LoRA path the order of application would decide.
    if (field->name == "lora_alpha" &&
        placed.Section("lora_model_path") != "model") {
      return src.Error(k.key_node, k.key,
                       "can be swept only when lora_model_path is set under "
                       "'model'");
    }
    absl::StatusOr<v1::Axis> axis = ReadAxis(*field, k, ctx, lora_alpha);
    if (!axis.ok()) return axis.status();
    if (!zipped) {
      *block->add_groups()->add_axes() = *std::move(axis);
      continue;
    }
    if (first != nullptr &&
        axis->values_size() != zip_group.axes(0).values_size()) {
      return src.Error(
          k, absl::StrCat("has ", axis->values_size(), " values but '",
                          first->key, "', zipped with it, has ",
                          zip_group.axes(0).values_size()));
    }
    if (first == nullptr) first = &k;
    *zip_group.add_axes() = *std::move(axis);
  }
  if (zipped) *block->add_groups() = std::move(zip_group);
  return absl::OkStatus();
}

// What the config left unset: flags, then built-in defaults; then the
// fields every render needs.
absl::Status Complete(const Placement& placed, const std::string& where,
                      LoadContext& ctx, v1::SweepBlock* block) {
  const YamlSource& src = ctx.source;
  v1::RenderParams* base = block->mutable_base();
  for (absl::string_view key : {"prompt", "steps", "guidance_scale"}) {
    if (!placed.Has(key)) {
      return src.ErrorAt(where, "",
                         absl::StrCat("missing required key '", key,
                                      "'; set it under 'defaults' or sweep "
                                      "it under 'grid' or 'zip'"));
    }
  }
  for (const FrameDimension& d : FrameDimensions(ctx.options)) {
    if (placed.Has(d.key)) continue;
    const RenderField& field = *FindRenderField(d.key);
    absl::StatusOr<v1::AxisValue> v =
        IntegerValue(field, d.flag != 0 ? d.flag : d.builtin);
    if (!v.ok()) {
      return src.ErrorAt(
          where, d.key,
          absl::StrCat(v.status().message(), " (from ", d.flag_name, ")"));
    }
    ApplyValue(field, *v, base);
  }
  if (!placed.Has("scheduler")) {
    base->set_scheduler(std::string(kDefaultScheduler));
  }
  if (!placed.Has("seed")) base->set_seed(ctx.DrawSeed());

  absl::Status st = ApplyModelFlags(where, /*animatediff_defaults=*/false, ctx,
                                    base->mutable_models());
  if (!st.ok()) return st;
  if (ctx.animatediff_renderer() && !base->models().has_base() &&
      !placed.Has("pretrained_model_path")) {
    return src.ErrorAt(where, "pretrained_model_path",
                       "required with the animatediff renderer; set "
                       "model.pretrained_model_path or "
                       "--pretrained-model-path");
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<absl::string_view>& ReelfarmTopLevelKeys() {
  static const auto* keys = new std::vector<absl::string_view>{
      "name",         "output",   "renderer", "formats",  "video", "gallery",
      "max_attempts", "sharding", "model",    "defaults", "grid",  "zip"};
  return *keys;
}

bool IsReelfarmTopLevelKey(absl::string_view key) {
  return In(ReelfarmTopLevelKeys(), key);
}

absl::Status ReadReelfarmConfig(const YAML::Node& root, LoadContext& ctx) {
  const YamlSource& src = ctx.source;
  absl::StatusOr<std::vector<MapEntry>> entries =
      MapEntries(root, src, "the config");
  if (!entries.ok()) return entries.status();
  TopLevel top;
  for (const MapEntry& e : *entries) {
    if (!IsReelfarmTopLevelKey(e.key)) {
      std::string message = UnknownKeyMessage(e.key, ReelfarmTopLevelKeys());
      if (e.value.IsMap() && e.value["prompt"].IsDefined()) {
        message = absl::StrCat(
            "unknown key '", e.key,
            "': this file uses reelfarm's keys, so it cannot also hold "
            "AnimateDiff entries");
      }
      return src.Error(e.key_node, "", message);
    }
    top[e.key] = &e;
  }
  absl::Status st = ReadSettings(top, ctx);
  if (!st.ok()) return st;

  v1::SweepBlock* block = ctx.spec->add_blocks();
  const std::string where = src.Where(root);
  block->set_name(ctx.spec->name());
  block->set_source_location(where);
  Placement placed(src);
  double lora_alpha = kDefaultLoraAlpha;
  if (const MapEntry* e = Find(top, "model")) {
    st = ReadModelSection(*e, placed, ctx,
                          block->mutable_base()->mutable_models(), &lora_alpha);
    if (!st.ok()) return st;
  }
  if (const MapEntry* e = Find(top, "defaults")) {
    st = ReadDefaults(*e, placed, ctx, block->mutable_base());
    if (!st.ok()) return st;
  }
  if (const MapEntry* e = Find(top, "grid")) {
    st = ReadAxes(*e, e->value, /*zipped=*/false, placed, lora_alpha, ctx,
                  block);
    if (!st.ok()) return st;
  }
  if (const MapEntry* e = Find(top, "zip")) {
    if (e->value.IsSequence()) {
      if (e->value.size() == 0) return src.Error(*e, "must not be empty");
      for (const YAML::Node& group : e->value) {
        st = ReadAxes(*e, group, /*zipped=*/true, placed, lora_alpha, ctx,
                      block);
        if (!st.ok()) return st;
      }
    } else {
      st = ReadAxes(*e, e->value, /*zipped=*/true, placed, lora_alpha, ctx,
                    block);
      if (!st.ok()) return st;
    }
  }
  return Complete(placed, where, ctx, block);
}

}  // namespace reelfarm::config
