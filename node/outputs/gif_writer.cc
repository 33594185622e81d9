#include "node/outputs/gif_writer.h"

#include <vector>

#include "node/outputs/color_quantizer.h"
#include "node/outputs/gif_encoder.h"
#include "node/outputs/palette_mapper.h"

namespace reelfarm {

absl::StatusOr<std::string> EncodeAnimatedGif(const Video& video, uint32_t fps,
                                              bool dither) {
  const size_t frame_bytes = size_t{video.width} * video.height * 3;
  for (const std::string& f : video.frames) {
    if (f.size() != frame_bytes) {
      return absl::InvalidArgumentError("gif: frame size does not match");
    }
  }
  PaletteMapper mapper(MedianCutPalette(video.frames, 256));
  std::vector<std::string> indexed;
  indexed.reserve(video.frames.size());
  for (const std::string& f : video.frames) {
    indexed.push_back(mapper.MapFrame(f, video.width, video.height, dither));
  }
  return EncodeGif(video.width, video.height, mapper.palette(), indexed,
                   GifFrameDelays(video.frames.size(), fps));
}

}  // namespace reelfarm
