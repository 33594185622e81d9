#ifndef REELFARM_NODE_PIPELINE_WEIGHTS_SAFETENSORS_H_
#define REELFARM_NODE_PIPELINE_WEIGHTS_SAFETENSORS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "node/pipeline/weights/tensor_map.h"

namespace reelfarm::pipeline {

// One tensor's entry in a safetensors header.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data section
  uint64_t end = 0;
};

// The checked header of a safetensors file: every entry's dtype is known,
// its byte size matches its shape, and the entries tile the data section
// without overlap, gap or overrun. Nothing is trusted before it is checked.
struct SafetensorsIndex {
  std::vector<SafetensorsEntry> entries;  // in data order
  uint64_t data_offset = 0;               // 8 + header length
};

// Parses the header of a safetensors image of `total_size` bytes whose first
// bytes are `prefix` (at least the 8-byte length and the header). `source`
// names the file in errors.
absl::StatusOr<SafetensorsIndex> ParseSafetensorsIndex(
    absl::string_view prefix, uint64_t total_size, const std::string& source);

// Decodes a whole safetensors image held in memory. Floating tensors become
// float32; integer and bool tensors keep their type.
absl::StatusOr<TensorMap> ParseSafetensors(absl::string_view bytes,
                                           const std::string& source);

// Maps the file and decodes every tensor as ParseSafetensors does.
absl::StatusOr<TensorMap> LoadSafetensors(const std::string& path);

// Writes float32 tensors (converted if needed) as a safetensors file, via a
// temporary file renamed into place.
absl::Status WriteSafetensors(const std::string& path,
                              const TensorMap& tensors);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_WEIGHTS_SAFETENSORS_H_
