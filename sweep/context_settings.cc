#include "sweep/context_settings.h"

namespace reelfarm {

ContextSettings ContextSettingsOf(const v1::RenderParams& p) {
  ContextSettings s;
  if (p.context_length() != 0) s.length = p.context_length();
  if (p.context_stride() != 0) s.stride = p.context_stride();
  if (!p.context_fuse().empty()) s.fuse = p.context_fuse();
  s.loop = p.context_loop();
  s.free_noise = p.free_noise();
  return s;
}

}  // namespace reelfarm
