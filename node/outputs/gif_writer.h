#ifndef REELFARM_NODE_OUTPUTS_GIF_WRITER_H_
#define REELFARM_NODE_OUTPUTS_GIF_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "node/renderers/renderer.h"

namespace reelfarm {

// A clip as a looping animated GIF: one 256-colour median-cut palette for
// all its frames, optionally Floyd-Steinberg dithered, shown at `fps`.
absl::StatusOr<std::string> EncodeAnimatedGif(const Video& video, uint32_t fps,
                                              bool dither);

}  // namespace reelfarm

#endif  // REELFARM_NODE_OUTPUTS_GIF_WRITER_H_
