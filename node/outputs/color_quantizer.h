#ifndef REELFARM_NODE_OUTPUTS_COLOR_QUANTIZER_H_
#define REELFARM_NODE_OUTPUTS_COLOR_QUANTIZER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace reelfarm {

using Rgb = std::array<uint8_t, 3>;

// One palette for a whole clip by median cut over the pixels of all its
// frames (RGB8, any size), so colours stay put from frame to frame. Boxes of
// colour space are split at the weighted median of their longest side, the
// box with the most pixels x extent^2 first; each palette entry is the mean
// of the
// pixels in its box. Returns at most `max_colors` (1..256) entries, fewer
// when the clip has fewer distinct colours.
std::vector<Rgb> MedianCutPalette(const std::vector<std::string>& frames,
                                  size_t max_colors = 256);

}  // namespace reelfarm

#endif  // REELFARM_NODE_OUTPUTS_COLOR_QUANTIZER_H_
