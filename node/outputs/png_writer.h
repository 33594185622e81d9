#ifndef REELFARM_NODE_OUTPUTS_PNG_WRITER_H_
#define REELFARM_NODE_OUTPUTS_PNG_WRITER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace reelfarm {

// Encodes an RGB8 image as PNG, with `text` as tEXt chunks (keyword, value),
// the way A1111 stores its "parameters".
absl::StatusOr<std::string> EncodePng(
    uint32_t width, uint32_t height, const std::string& rgb,
    const std::vector<std::pair<std::string, std::string>>& text = {});

}  // namespace reelfarm

#endif  // REELFARM_NODE_OUTPUTS_PNG_WRITER_H_
