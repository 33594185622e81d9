#ifndef REELFARM_SWEEP_AXIS_VALUES_H_
#define REELFARM_SWEEP_AXIS_VALUES_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "sweep/render_fields.h"
#include "sweep/load_context.h"
#include "sweep/yaml_source.h"
#include "reelfarm/v1/sweep.pb.h"

namespace reelfarm::config {

// The most values one range may produce; a typo in a range should fail fast
// rather than plan a billion jobs.
inline constexpr uint64_t kMaxRangeValues = 100'000'000;

// Reads the values a swept field takes (`entry.key` names the field):
//   a YAML list of values, each checked like a single value;
//   {range: [start, stop]} or {range: [start, stop, step]}: integers,
//     stop excluded (as Python's range), step defaults to 1, may be
//     negative; integer fields only;
//   {from: a, to: b, step: s}: both ends included, step defaults to 1;
//     any numeric field (real values are a + i*s, rounded to 12
//     significant digits so 0.1 steps read back as written).
// Empty lists and ranges, step 0 and ranges over kMaxRangeValues are
// errors. Seeds of -1 in a list are drawn; ranges never draw.
absl::StatusOr<v1::Axis> ReadAxis(const RenderField& field,
                                  const MapEntry& entry, LoadContext& ctx,
                                  double lora_alpha);

}  // namespace reelfarm::config

#endif  // REELFARM_SWEEP_AXIS_VALUES_H_
