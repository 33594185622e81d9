#include "sweep/axis_values.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "absl/strings/str_cat.h"
#include "sweep/field_values.h"
#include "sweep/scalars.h"
#include "sweep/suggest.h"

namespace reelfarm::config {
namespace {

bool IsIntegerKind(FieldKind kind) {
  return kind == FieldKind::kUint32 || kind == FieldKind::kSeed;
}

absl::Status TooMany(const YamlSource& src, const YAML::Node& node,
                     absl::string_view field, WideInt count) {
  return src.Error(
      node, field,
      absl::StrCat("range has ", WideIntToString(count), " values; at most ",
                   kMaxRangeValues, " are allowed"));
}

// Adds start, start+step, ... (count values), each checked against the
// field; an error names the offending value and its position.
absl::Status AddIntegers(const RenderField& field, const YAML::Node& node,
                         WideInt start, WideInt step, WideInt count,
                         const LoadContext& ctx, v1::Axis* axis) {
  for (WideInt i = 0; i < count; ++i) {
    const WideInt value = start + i * step;
    absl::StatusOr<v1::AxisValue> v = IntegerValue(field, value);
    if (!v.ok()) {
      return ctx.source.Error(
          node, field.name,
          absl::StrCat(v.status().message(), " (value ", WideIntToString(i + 1),
                       " of the range)"));
    }
    *axis->add_values() = *std::move(v);
  }
  return absl::OkStatus();
}

// {range: [start, stop(, step)]}, stop excluded.
absl::Status ReadRange(const RenderField& field, const MapEntry& range,
                       const LoadContext& ctx, v1::Axis* axis) {
  const YamlSource& src = ctx.source;
  const std::string name = absl::StrCat(field.name, ".range");
  if (!IsIntegerKind(field.kind)) {
    return src.Error(range.key_node, name,
                     absl::StrCat("range takes integers; use {from, to, "
                                  "step} for ",
                                  field.name));
  }
  const YAML::Node& list = range.value;
  if (!list.IsSequence() || list.size() < 2 || list.size() > 3) {
    return src.Error(range, absl::StrCat("must be [start, stop] or [start, "
                                         "stop, step], got ",
                                         Describe(list)));
  }
  WideInt bounds[3] = {0, 0, 1};
  for (size_t i = 0; i < list.size(); ++i) {
    std::optional<WideInt> v = ParseInteger(list[i]);
    if (!v) {
      return src.Error(
          list[i], name,
          absl::StrCat("must hold integers, got ", Describe(list[i])));
    }
    bounds[i] = *v;
  }
  const auto [start, stop, step] = bounds;
  if (step == 0) return src.Error(list, name, "step must not be 0");
  WideInt count = 0;
  if (step > 0 && stop > start) count = (stop - start + step - 1) / step;
  if (step < 0 && stop < start) count = (start - stop - step - 1) / -step;
  if (count == 0) {
    return src.Error(list, name,
                     "is empty (stop is excluded; a negative step counts "
                     "down)");
  }
  if (count > static_cast<WideInt>(kMaxRangeValues)) {
    return TooMany(src, list, name, count);
  }
  return AddIntegers(field, list, start, step, count, ctx, axis);
}

// {from: a, to: b, step: s}, both ends included.
absl::Status ReadFromTo(const RenderField& field, const YAML::Node& node,
                        const std::vector<MapEntry>& keys,
                        const LoadContext& ctx, v1::Axis* axis) {
  const YamlSource& src = ctx.source;
  const MapEntry* from = nullptr;
  const MapEntry* to = nullptr;
  const MapEntry* step = nullptr;
  for (const MapEntry& e : keys) {
    if (e.key == "from") from = &e;
    if (e.key == "to") to = &e;
    if (e.key == "step") step = &e;
  }
  if (from == nullptr || to == nullptr) {
    return src.Error(node, field.name,
                     absl::StrCat("range needs both 'from' and 'to'"));
  }
  if (IsIntegerKind(field.kind)) {
    std::optional<WideInt> bounds[3] = {ParseInteger(from->value),
                                        ParseInteger(to->value), WideInt{1}};
    if (step != nullptr) bounds[2] = ParseInteger(step->value);
    const MapEntry* parts[3] = {from, to, step};
    for (int i = 0; i < 3; ++i) {
      if (!bounds[i]) {
        return src.Error(*parts[i], absl::StrCat("must be an integer, got ",
                                                 Describe(parts[i]->value)));
      }
    }
    const WideInt a = *bounds[0], b = *bounds[1], s = *bounds[2];
    if (s == 0) return src.Error(*step, "must not be 0");
    if ((b - a) != 0 && ((b - a) > 0) != (s > 0)) {
      return src.Error(step != nullptr ? step->value : node,
                       absl::StrCat(field.name, ".step"),
                       "goes away from 'to'; the range is empty (count "
                       "down with a negative step)");
    }
    const WideInt count = (b - a) / s + 1;
    if (count > static_cast<WideInt>(kMaxRangeValues)) {
      return TooMany(src, node, field.name, count);
    }
    return AddIntegers(field, node, a, s, count, ctx, axis);
  }
  if (field.kind != FieldKind::kReal) {
    return src.Error(node, field.name,
                     "ranges are only for numeric fields; give a list");
  }
  absl::StatusOr<double> a = ReadFiniteReal(from->value, "from", src);
  if (!a.ok()) return a.status();
  absl::StatusOr<double> b = ReadFiniteReal(to->value, "to", src);
  if (!b.ok()) return b.status();
  double s = 1.0;
  if (step != nullptr) {
    absl::StatusOr<double> st = ReadFiniteReal(step->value, "step", src);
    if (!st.ok()) return st.status();
    s = *st;
    if (s == 0) return src.Error(*step, "must not be 0");
  }
  const double span = (*b - *a) / s;
  if (span < -1e-9) {
    return src.Error(step != nullptr ? step->value : node,
                     absl::StrCat(field.name, ".step"),
                     "goes away from 'to'; the range is empty (count down "
                     "with a negative step)");
  }
  // The tolerance keeps 5..9 step 0.1 from losing its last value to
  // rounding.
  const double count = std::floor(span + 1e-9) + 1;
  if (count > static_cast<double>(kMaxRangeValues)) {
    return TooMany(src, node, field.name, static_cast<WideInt>(count));
  }
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.12g", *a + static_cast<double>(i) * s);
    absl::StatusOr<v1::AxisValue> v =
        RealValue(field, std::strtod(buf, nullptr));
    if (!v.ok()) return src.Error(node, field.name, v.status().message());
    *axis->add_values() = *std::move(v);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Axis> ReadAxis(const RenderField& field,
                                  const MapEntry& entry, LoadContext& ctx,
                                  double lora_alpha) {
  const YamlSource& src = ctx.source;
  v1::Axis axis;
  axis.set_field(std::string(field.name));
  const YAML::Node& node = entry.value;
  if (node.IsSequence()) {
    if (node.size() == 0) return src.Error(entry, "must not be an empty list");
    for (const YAML::Node& item : node) {
      absl::StatusOr<v1::AxisValue> v =
          ReadFieldValue(field, item, ctx, lora_alpha);
      if (!v.ok()) return v.status();
      *axis.add_values() = *std::move(v);
    }
    return axis;
  }
  if (node.IsMap()) {
    absl::StatusOr<std::vector<MapEntry>> keys =
        MapEntries(node, src, entry.key);
    if (!keys.ok()) return keys.status();
    for (const MapEntry& k : *keys) {
      if (k.key != "range" && k.key != "from" && k.key != "to" &&
          k.key != "step") {
        return src.Error(
            k.key_node, entry.key,
            UnknownKeyMessage(k.key, {"range", "from", "to", "step"}));
      }
    }
    const MapEntry* range = nullptr;
    for (const MapEntry& k : *keys) {
      if (k.key == "range") range = &k;
    }
    absl::Status st;
    if (range != nullptr && keys->size() == 1) {
      st = ReadRange(field, *range, ctx, &axis);
    } else if (range != nullptr) {
      st = src.Error(node, entry.key,
                     "a range is either {range: [start, stop, step]} or "
                     "{from, to, step}, not both");
    } else {
      st = ReadFromTo(field, node, *keys, ctx, &axis);
    }
    if (!st.ok()) return st;
    return axis;
  }
  return src.Error(
      entry,
      absl::StrCat("must be a list of values or a range, got ", Describe(node),
                   "; put a single value under 'defaults'"));
}

}  // namespace reelfarm::config
