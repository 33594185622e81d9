#ifndef REELFARM_SWEEP_FIELD_VALUES_H_
#define REELFARM_SWEEP_FIELD_VALUES_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sweep/render_fields.h"
#include "sweep/load_context.h"
#include "sweep/scalars.h"
#include "reelfarm/v1/sweep.pb.h"
#include "yaml-cpp/yaml.h"

namespace reelfarm::config {

// Schedulers the renderers implement; "ddim" is AnimateDiff's and the
// default.
const std::vector<absl::string_view>& SchedulerNames();
inline constexpr absl::string_view kDefaultScheduler = "ddim";

// What a field's values must be, for messages: "must be a positive
// multiple of 8" (W, H), "must be a positive integer" (L, steps), ...
std::string FieldRule(const RenderField& field);

// Checks an integer (from a config or a range) against the field's rule and
// turns it into the field's AxisValue. Errors carry no location (the caller
// adds it): "must be a positive multiple of 8, got 100". Seeds must be
// concrete here (0 .. 2^64-1); -1 is ReadSeed's business.
absl::StatusOr<v1::AxisValue> IntegerValue(const RenderField& field,
                                           WideInt value);
// Likewise for reals (guidance_scale, lora_alpha): finite.
absl::StatusOr<v1::AxisValue> RealValue(const RenderField& field, double value);

// A seed as written: a concrete uint64, or nullopt for -1 ("draw one").
absl::StatusOr<std::optional<uint64_t>> ReadSeed(const YAML::Node& node,
                                                 const LoadContext& ctx);

// One config value (a scalar) of `field`, checked and located. Seeds of -1
// are drawn (ctx.DrawSeed records them); model paths resolve as
// ReadModelPath does; a LoRA path gets `lora_alpha`.
absl::StatusOr<v1::AxisValue> ReadFieldValue(const RenderField& field,
                                             const YAML::Node& node,
                                             LoadContext& ctx,
                                             double lora_alpha);

// Sets `field` in `params` to `value` (already checked).
void ApplyValue(const RenderField& field, const v1::AxisValue& value,
                v1::RenderParams* params);

}  // namespace reelfarm::config

#endif  // REELFARM_SWEEP_FIELD_VALUES_H_
