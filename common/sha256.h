#ifndef REELFARM_COMMON_SHA256_H_
#define REELFARM_COMMON_SHA256_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reelfarm {

// Incremental SHA-256 (OpenSSL underneath). Hex digests are lowercase.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view bytes);
  // Finishes the digest; the object must not be updated afterwards.
  std::string HexDigest();
  // The raw 32 bytes.
  std::string Digest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string Sha256Hex(absl::string_view bytes);

// Streams the file; NotFound / PermissionDenied name the path.
absl::StatusOr<std::string> Sha256FileHex(const std::string& path);

}  // namespace reelfarm

#endif  // REELFARM_COMMON_SHA256_H_
