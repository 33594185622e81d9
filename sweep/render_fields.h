#ifndef REELFARM_SWEEP_RENDER_FIELDS_H_
#define REELFARM_SWEEP_RENDER_FIELDS_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "reelfarm/v1/sweep.pb.h"

namespace reelfarm {

// The value type a render field takes in a config and in an AxisValue.
enum class FieldKind {
  kText,    // AxisValue.text
  kUint32,  // AxisValue.unsigned_integer, at most 2^32-1
  kSeed,    // AxisValue.unsigned_integer, any uint64
  kReal,    // AxisValue.real
  kModel,   // AxisValue.model
  kLora,    // AxisValue.lora
  kBool,    // AxisValue.boolean
};

// One field of RenderParams that a sweep can set or sweep over. Names are
// AnimateDiff's config keys, so its configs and reelfarm's read alike.
struct RenderField {
  absl::string_view name;  // "n_prompt", "W", "motion_module", ...
  absl::string_view
      alias;  // a second accepted spelling ("negative_prompt"), or ""
  FieldKind kind;
  // Writes `value` into `params`; InvalidArgument when the variant does not
  // match `kind` or the value is out of range.
  absl::Status (*apply)(const v1::AxisValue& value, v1::RenderParams* params);
};

const std::vector<RenderField>& RenderFields();

// By name or alias; nullptr when unknown.
const RenderField* FindRenderField(absl::string_view name);

}  // namespace reelfarm

#endif  // REELFARM_SWEEP_RENDER_FIELDS_H_
