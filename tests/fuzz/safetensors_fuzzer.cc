// libFuzzer target: a safetensors image, parsed and decoded in memory.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "node/pipeline/weights/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Errors are expected; crashes, leaks and sanitizer reports are the bugs.
  (void)reelfarm::pipeline::ParseSafetensors(bytes, "fuzz.safetensors");
  return 0;
}
