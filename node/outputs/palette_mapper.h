#ifndef REELFARM_NODE_OUTPUTS_PALETTE_MAPPER_H_
#define REELFARM_NODE_OUTPUTS_PALETTE_MAPPER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "node/outputs/color_quantizer.h"

namespace reelfarm {

// Maps RGB8 pixels to the indices of their nearest palette entries
// (squared RGB distance), optionally with Floyd-Steinberg error diffusion.
class PaletteMapper {
 public:
  explicit PaletteMapper(std::vector<Rgb> palette);

  // The nearest entry's index.
  uint8_t Nearest(int r, int g, int b);

  // One frame (width*height*3 bytes) as width*height palette indices.
  std::string MapFrame(const std::string& rgb, uint32_t width, uint32_t height,
                       bool dither);

  const std::vector<Rgb>& palette() const { return palette_; }

 private:
  uint8_t Search(int r, int g, int b) const;

  std::vector<Rgb> palette_;
  std::vector<uint8_t> by_green_;  // palette indices ordered by green
  // Direct-mapped cache of recent lookups: key 0x1RRGGBB (0 = empty).
  std::vector<uint32_t> cache_keys_;
  std::vector<uint8_t> cache_values_;
};

}  // namespace reelfarm

#endif  // REELFARM_NODE_OUTPUTS_PALETTE_MAPPER_H_
