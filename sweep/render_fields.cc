#include "sweep/render_fields.h"

#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"

namespace reelfarm {
namespace {

using v1::AxisValue;
using v1::RenderParams;

absl::Status WrongKind(const AxisValue& value, absl::string_view want) {
  return absl::InvalidArgumentError(
      absl::StrCat("expected ", want, ", got ", value.DebugString()));
}

absl::Status GetText(const AxisValue& v, std::string* out) {
  if (v.value_case() != AxisValue::kText) return WrongKind(v, "a string");
  *out = v.text();
  return absl::OkStatus();
}

absl::Status GetUint32(const AxisValue& v, uint32_t* out) {
  if (v.value_case() != AxisValue::kUnsignedInteger) {
    return WrongKind(v, "a non-negative integer");
  }
  if (v.unsigned_integer() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat(v.unsigned_integer(), " is out of range"));
  }
  *out = static_cast<uint32_t>(v.unsigned_integer());
  return absl::OkStatus();
}

absl::Status GetReal(const AxisValue& v, double* out) {
  if (v.value_case() != AxisValue::kReal) return WrongKind(v, "a number");
  *out = v.real();
  return absl::OkStatus();
}

template <void (RenderParams::*Set)(const std::string&)>
absl::Status ApplyText(const AxisValue& v, RenderParams* p) {
  std::string s;
  absl::Status st = GetText(v, &s);
  if (st.ok()) (p->*Set)(s);
  return st;
}

template <void (RenderParams::*Set)(uint32_t)>
absl::Status ApplyUint32(const AxisValue& v, RenderParams* p) {
  uint32_t x = 0;
  absl::Status st = GetUint32(v, &x);
  if (st.ok()) (p->*Set)(x);
  return st;
}

absl::Status ApplySeed(const AxisValue& v, RenderParams* p) {
  if (v.value_case() != AxisValue::kUnsignedInteger) {
    return WrongKind(v, "an unsigned 64-bit seed");
  }
  p->set_seed(v.unsigned_integer());
  return absl::OkStatus();
}

absl::Status ApplyGuidance(const AxisValue& v, RenderParams* p) {
  double x = 0;
  absl::Status st = GetReal(v, &x);
  if (st.ok()) p->set_guidance_scale(x);
  return st;
}

template <void (RenderParams::*Set)(bool)>
absl::Status ApplyBool(const AxisValue& v, RenderParams* p) {
  if (v.value_case() != AxisValue::kBoolean) {
    return WrongKind(v, "true or false");
  }
  (p->*Set)(v.boolean());
  return absl::OkStatus();
}

template <v1::ModelRef* (v1::ModelSet::*Mutable)()>
absl::Status ApplyModel(const AxisValue& v, RenderParams* p) {
  if (v.value_case() != AxisValue::kModel) return WrongKind(v, "a model path");
  *(p->mutable_models()->*Mutable)() = v.model();
  return absl::OkStatus();
}

absl::Status ApplyLora(const AxisValue& v, RenderParams* p) {
  if (v.value_case() != AxisValue::kLora) return WrongKind(v, "a LoRA path");
  p->mutable_models()->clear_loras();
  if (!v.lora().model().path().empty()) {
    *p->mutable_models()->add_loras() = v.lora();
  }
  return absl::OkStatus();
}

absl::Status ApplyLoraAlpha(const AxisValue& v, RenderParams* p) {
  double x = 0;
  absl::Status st = GetReal(v, &x);
  if (!st.ok()) return st;
  for (v1::LoraRef& lora : *p->mutable_models()->mutable_loras()) {
    lora.set_alpha(x);
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<RenderField>& RenderFields() {
  static const auto* fields = new std::vector<RenderField>{
      {"prompt", "", FieldKind::kText, &ApplyText<&RenderParams::set_prompt>},
      {"n_prompt", "negative_prompt", FieldKind::kText,
       &ApplyText<&RenderParams::set_negative_prompt>},
      {"seed", "", FieldKind::kSeed, &ApplySeed},
      {"W", "width", FieldKind::kUint32,
       &ApplyUint32<&RenderParams::set_width>},
      {"H", "height", FieldKind::kUint32,
       &ApplyUint32<&RenderParams::set_height>},
      {"L", "frames", FieldKind::kUint32,
       &ApplyUint32<&RenderParams::set_frames>},
      {"steps", "", FieldKind::kUint32, &ApplyUint32<&RenderParams::set_steps>},
      {"guidance_scale", "", FieldKind::kReal, &ApplyGuidance},
      {"scheduler", "", FieldKind::kText,
       &ApplyText<&RenderParams::set_scheduler>},
      {"pretrained_model_path", "", FieldKind::kModel,
       &ApplyModel<&v1::ModelSet::mutable_base>},
      {"motion_module", "", FieldKind::kModel,
       &ApplyModel<&v1::ModelSet::mutable_motion_module>},
      {"dreambooth_path", "", FieldKind::kModel,
       &ApplyModel<&v1::ModelSet::mutable_dreambooth>},
      {"inference_config", "", FieldKind::kModel,
       &ApplyModel<&v1::ModelSet::mutable_inference_config>},
      {"lora_model_path", "", FieldKind::kLora, &ApplyLora},
      {"lora_alpha", "", FieldKind::kReal, &ApplyLoraAlpha},
      {"context_length", "", FieldKind::kUint32,
       &ApplyUint32<&RenderParams::set_context_length>},
      {"context_stride", "", FieldKind::kUint32,
       &ApplyUint32<&RenderParams::set_context_stride>},
      {"context_fuse", "", FieldKind::kText,
       &ApplyText<&RenderParams::set_context_fuse>},
      {"context_loop", "", FieldKind::kBool,
       &ApplyBool<&RenderParams::set_context_loop>},
      {"free_noise", "", FieldKind::kBool,
       &ApplyBool<&RenderParams::set_free_noise>},
      {"devices_per_video", "", FieldKind::kUint32,
       &ApplyUint32<&RenderParams::set_devices_per_video>},
      {"split_frames", "", FieldKind::kBool,
       &ApplyBool<&RenderParams::set_split_frames>},
  };
  return *fields;
}

const RenderField* FindRenderField(absl::string_view name) {
  for (const RenderField& f : RenderFields()) {
    if (f.name == name || (!f.alias.empty() && f.alias == name)) return &f;
  }
  return nullptr;
}

}  // namespace reelfarm
