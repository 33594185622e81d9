#ifndef REELFARM_SWEEP_OUTPUT_SETTINGS_H_
#define REELFARM_SWEEP_OUTPUT_SETTINGS_H_

// What a sweep's jobs write and how its gallery lays them out (reelfarm's
// form; AnimateDiff's forms get the defaults):
//
//   formats: [frames, gif, mp4]   # default: all three, mp4 only when
//                                 #   LoadOptions.mp4_available
//   video: {fps: 8, gif_dither: true, mp4_crf: 18}   # the defaults
//   gallery: {rows: prompt, columns: seed}           # the defaults

#include "absl/status/status.h"
#include "sweep/load_context.h"
#include "sweep/yaml_source.h"

namespace reelfarm::config {

// Each argument may be null (the key is absent).
absl::Status ReadOutputSettings(const MapEntry* formats, const MapEntry* video,
                                const MapEntry* gallery, LoadContext& ctx);

// The defaults alone, for forms without these keys.
void ApplyDefaultOutputSettings(LoadContext& ctx);

}  // namespace reelfarm::config

#endif  // REELFARM_SWEEP_OUTPUT_SETTINGS_H_
