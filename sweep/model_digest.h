#ifndef REELFARM_SWEEP_MODEL_DIGEST_H_
#define REELFARM_SWEEP_MODEL_DIGEST_H_

#include <string>

#include "absl/status/statusor.h"

namespace reelfarm {

// The identity of a model file or folder that goes into job ids:
// "sha256:<hex>" of a file's bytes, or of a folder's sorted listing of
// (relative path, file digest) pairs, so renaming a folder keeps its digest
// and changing any file in it changes it. Results are cached per process by
// (path, size, mtime), since checkpoints are gigabytes.
absl::StatusOr<std::string> DigestModelPath(const std::string& path);

}  // namespace reelfarm

#endif  // REELFARM_SWEEP_MODEL_DIGEST_H_
