#ifndef REELFARM_SWEEP_CONTEXT_SETTINGS_H_
#define REELFARM_SWEEP_CONTEXT_SETTINGS_H_

#include <cstdint>
#include <string>

#include "reelfarm/v1/sweep.pb.h"

namespace reelfarm {

// A job's context-window settings with the defaults filled in, so an unset
// key and one set to its default mean (and hash) the same.
struct ContextSettings {
  uint32_t length = 16;
  uint32_t stride = 4;
  std::string fuse = "pyramid";
  bool loop = false;
  bool free_noise = false;

  bool operator==(const ContextSettings& o) const {
    return length == o.length && stride == o.stride && fuse == o.fuse &&
           loop == o.loop && free_noise == o.free_noise;
  }
  bool IsDefault() const { return *this == ContextSettings(); }
};

ContextSettings ContextSettingsOf(const v1::RenderParams& params);

// 0 or 1 in the params: one device.
inline uint32_t DevicesPerVideo(const v1::RenderParams& params) {
  return params.devices_per_video() == 0 ? 1 : params.devices_per_video();
}

}  // namespace reelfarm

#endif  // REELFARM_SWEEP_CONTEXT_SETTINGS_H_
