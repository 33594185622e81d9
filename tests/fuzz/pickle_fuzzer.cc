// libFuzzer target for .ckpt loading. An input that starts like a zip goes
// through the whole archive path (zip reader, unpickler, state dict);
// anything else is run as a bare data.pkl whose storages all resolve to one
// small buffer, which reaches the VM and the tensor checks directly.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "node/pipeline/weights/checkpoint.h"
#include "node/pipeline/weights/restricted_unpickler.h"

namespace {

// Small limits keep each run fast; they are exercised, not relied on.
reelfarm::pipeline::UnpicklerLimits FuzzLimits() {
  reelfarm::pipeline::UnpicklerLimits limits;
  limits.max_stack = 1 << 14;
  limits.max_memo = 1 << 14;
  limits.max_objects = 1 << 16;
  return limits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reelfarm::pipeline;  // NOLINT: a fuzz entry point
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (absl::StartsWith(bytes, "PK")) {
    (void)ParseCheckpoint(bytes, "fuzz.ckpt");
    return 0;
  }
  static const std::string* storage = new std::string(4096, '\x3c');
  const StorageResolver resolver =
      [](absl::string_view key) -> absl::StatusOr<absl::string_view> {
    if (key == "missing") return absl::NotFoundError("no such storage");
    return absl::string_view(*storage);
  };
  absl::StatusOr<PickleResult> result =
      Unpickle(bytes, resolver, "fuzz.pkl", FuzzLimits());
  if (result.ok()) (void)StateDictFromPickle(*result, "fuzz.pkl");
  return 0;
}
