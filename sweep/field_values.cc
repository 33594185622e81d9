#include "sweep/field_values.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sweep/model_keys.h"

namespace reelfarm::config {
namespace {

constexpr WideInt kMaxUint32 = std::numeric_limits<uint32_t>::max();
constexpr WideInt kMaxUint64 = std::numeric_limits<uint64_t>::max();

bool IsDimension(const RenderField& field) {
  return field.name == "W" || field.name == "H";
}

absl::Status Rejected(const RenderField& field, absl::string_view got) {
  return absl::InvalidArgumentError(
      absl::StrCat(FieldRule(field), ", got ", got));
}

// Adds the location and field name to an unlocated value error.
absl::Status Locate(const absl::Status& st, const RenderField& field,
                    const YAML::Node& node, const LoadContext& ctx) {
  return ctx.source.Error(node, field.name, st.message());
}

}  // namespace

const std::vector<absl::string_view>& SchedulerNames() {
  static const auto* names = new std::vector<absl::string_view>{
      "ddim", "euler", "euler_ancestral", "dpmpp_2m", "dpmpp_2m_karras"};
  return *names;
}

std::string FieldRule(const RenderField& field) {
  switch (field.kind) {
    case FieldKind::kUint32:
      return IsDimension(field) ? "must be a positive multiple of 8"
                                : "must be a positive integer";
    case FieldKind::kSeed:
      return "must be -1 or an integer from 0 to 18446744073709551615";
    case FieldKind::kReal:
      return "must be a finite number";
    case FieldKind::kText:
      if (field.name == "scheduler") {
        return absl::StrCat("must be one of ",
                            absl::StrJoin(SchedulerNames(), ", "));
      }
      if (field.name == "context_fuse") return "must be pyramid or flat";
      return "must be a string";
    case FieldKind::kBool:
      return "must be true or false";
    case FieldKind::kModel:
    case FieldKind::kLora:
      return "must be a path (a string)";
  }
  return "is invalid";
}

absl::StatusOr<v1::AxisValue> IntegerValue(const RenderField& field,
                                           WideInt value) {
  v1::AxisValue out;
  switch (field.kind) {
    case FieldKind::kUint32:
      if (value < 1 || (IsDimension(field) && value % 8 != 0)) {
        return Rejected(field, WideIntToString(value));
      }
      if (value > kMaxUint32) {
        return absl::InvalidArgumentError(absl::StrCat(
            "must be at most 4294967295, got ", WideIntToString(value)));
      }
      out.set_unsigned_integer(static_cast<uint64_t>(value));
      return out;
    case FieldKind::kSeed:
      if (value < 0 || value > kMaxUint64) {
        return Rejected(field, WideIntToString(value));
      }
      out.set_unsigned_integer(static_cast<uint64_t>(value));
      return out;
    case FieldKind::kReal:
      return RealValue(field, static_cast<double>(value));
    default:
      return Rejected(field, WideIntToString(value));
  }
}

absl::StatusOr<v1::AxisValue> RealValue(const RenderField& field,
                                        double value) {
  if (field.kind != FieldKind::kReal || !std::isfinite(value)) {
    return Rejected(field, absl::StrCat(value));
  }
  v1::AxisValue out;
  out.set_real(value);
  return out;
}

absl::StatusOr<std::optional<uint64_t>> ReadSeed(const YAML::Node& node,
                                                 const LoadContext& ctx) {
  const RenderField* field = FindRenderField("seed");
  std::optional<WideInt> value = ParseInteger(node);
  if (!value)
    return Locate(Rejected(*field, Describe(node)), *field, node, ctx);
  if (*value == -1) return std::optional<uint64_t>();
  absl::StatusOr<v1::AxisValue> v = IntegerValue(*field, *value);
  if (!v.ok()) return Locate(v.status(), *field, node, ctx);
  return std::optional<uint64_t>(v->unsigned_integer());
}

absl::StatusOr<v1::AxisValue> ReadFieldValue(const RenderField& field,
                                             const YAML::Node& node,
                                             LoadContext& ctx,
                                             double lora_alpha) {
  v1::AxisValue out;
  switch (field.kind) {
    case FieldKind::kUint32: {
      std::optional<WideInt> value = ParseInteger(node);
      if (!value)
        return Locate(Rejected(field, Describe(node)), field, node, ctx);
      absl::StatusOr<v1::AxisValue> v = IntegerValue(field, *value);
      if (!v.ok()) return Locate(v.status(), field, node, ctx);
      return v;
    }
    case FieldKind::kSeed: {
      absl::StatusOr<std::optional<uint64_t>> seed = ReadSeed(node, ctx);
      if (!seed.ok()) return seed.status();
      out.set_unsigned_integer(seed->has_value() ? **seed : ctx.DrawSeed());
      return out;
    }
    case FieldKind::kReal: {
      std::optional<double> value = ParseReal(node);
      if (!value)
        return Locate(Rejected(field, Describe(node)), field, node, ctx);
      absl::StatusOr<v1::AxisValue> v = RealValue(field, *value);
      if (!v.ok()) return Locate(v.status(), field, node, ctx);
      return v;
    }
    case FieldKind::kText: {
      absl::StatusOr<std::string> text = ReadText(node, field.name, ctx.source);
      if (!text.ok()) return text.status();
      if (field.name == "prompt" && text->empty()) {
        return ctx.source.Error(node, field.name, "must not be empty");
      }
      if (field.name == "scheduler") {
        bool known = false;
        for (absl::string_view s : SchedulerNames()) known |= (s == *text);
        if (!known) {
          return Locate(Rejected(field, Describe(node)), field, node, ctx);
        }
      }
      if (field.name == "context_fuse" && *text != "pyramid" &&
          *text != "flat") {
        return Locate(Rejected(field, Describe(node)), field, node, ctx);
      }
      out.set_text(*std::move(text));
      return out;
    }
    case FieldKind::kModel: {
      absl::StatusOr<v1::ModelRef> ref = ReadModelPath(node, field.name, ctx);
      if (!ref.ok()) return ref.status();
      *out.mutable_model() = *std::move(ref);
      return out;
    }
    case FieldKind::kLora: {
      absl::StatusOr<v1::ModelRef> ref = ReadModelPath(node, field.name, ctx);
      if (!ref.ok()) return ref.status();
      *out.mutable_lora()->mutable_model() = *std::move(ref);
      out.mutable_lora()->set_alpha(lora_alpha);
      return out;
    }
    case FieldKind::kBool: {
      absl::StatusOr<bool> value = ReadBool(node, field.name, ctx.source);
      if (!value.ok()) return value.status();
      out.set_boolean(*value);
      return out;
    }
  }
  return ctx.source.Error(node, field.name, "unsupported field");
}

void ApplyValue(const RenderField& field, const v1::AxisValue& value,
                v1::RenderParams* params) {
  // Values were checked when read, so the field's apply cannot fail.
  field.apply(value, params).IgnoreError();
}

}  // namespace reelfarm::config
