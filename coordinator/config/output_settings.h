#ifndef REELFARM_COORDINATOR_CONFIG_OUTPUT_SETTINGS_H_
#define REELFARM_COORDINATOR_CONFIG_OUTPUT_SETTINGS_H_

// What a sweep's jobs write and how its gallery lays them out (reelfarm's
// form; AnimateDiff's forms get the defaults):
//
//   formats: [frames, gif, mp4]   # default: all three, mp4 only when
//                                 #   LoadOptions.mp4_available
//   video: {fps: 8, gif_dither: true, mp4_crf: 18}   # the defaults
//   gallery: {rows: prompt, columns: seed}           # the defaults

#include "absl/status/status.h"
#include "coordinator/config/load_context.h"
#include "coordinator/config/yaml_source.h"

namespace reelfarm::config {

// Each argument may be null (the key is absent).
absl::Status ReadOutputSettings(const MapEntry* formats, const MapEntry* video,
                                const MapEntry* gallery, LoadContext& ctx);

// The defaults alone, for forms without these keys.
void ApplyDefaultOutputSettings(LoadContext& ctx);

}  // namespace reelfarm::config

#endif  // REELFARM_COORDINATOR_CONFIG_OUTPUT_SETTINGS_H_
