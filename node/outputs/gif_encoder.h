#ifndef REELFARM_NODE_OUTPUTS_GIF_ENCODER_H_
#define REELFARM_NODE_OUTPUTS_GIF_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/outputs/color_quantizer.h"

namespace reelfarm {

// A looping GIF89a: one global palette (1..256 entries), frames given as
// width*height palette indices, each shown for its delay in 1/100 s.
absl::StatusOr<std::string> EncodeGif(
    uint32_t width, uint32_t height, const std::vector<Rgb>& palette,
    const std::vector<std::string>& indexed_frames,
    const std::vector<uint16_t>& delays_cs);

// Per-frame delays for `fps` in GIF's 1/100 s units, rounded so the running
// total stays on time (8 fps: 13, 12, 13, 12, ...).
std::vector<uint16_t> GifFrameDelays(size_t frames, uint32_t fps);

}  // namespace reelfarm

#endif  // REELFARM_NODE_OUTPUTS_GIF_ENCODER_H_
