#ifndef REELFARM_RPC_PEM_FILE_H_
#define REELFARM_RPC_PEM_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reelfarm {

// Reads a PEM file (certificate, key or CA bundle) for TLS; `what` names the
// flag it came from in errors. A file without a PEM block is an error here,
// not an opaque handshake failure later.
absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                        absl::string_view what);

// ReadPemFile into `*pem` when `path` is set; an unset flag leaves it alone.
absl::Status ReadOptionalPemFile(const std::string& path,
                                 absl::string_view what, std::string* pem);

}  // namespace reelfarm

#endif  // REELFARM_RPC_PEM_FILE_H_
