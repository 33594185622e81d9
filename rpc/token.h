#ifndef REELFARM_RPC_TOKEN_H_
#define REELFARM_RPC_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reelfarm {

// The shared secret that clients present to a coordinator, as gRPC metadata
// "authorization: Bearer <token>".
inline constexpr char kTokenEnvVar[] = "REELFARM_TOKEN";
inline constexpr char kAuthorizationKey[] = "authorization";
inline constexpr char kBearerPrefix[] = "Bearer ";

// Reads a token from `path`; surrounding whitespace (a trailing newline from
// an editor or `echo`) is dropped. Empty files and tokens with characters
// outside printable ASCII are errors that name the file.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// The token from `token_file` when it is not empty, else from
// $REELFARM_TOKEN, else "" (none given).
absl::StatusOr<std::string> ResolveToken(const std::string& token_file);

// Checks a token's characters; `source` names where it came from.
absl::Status ValidateToken(absl::string_view token, absl::string_view source);

// Compares in time that depends on neither the contents nor the lengths, so
// a caller cannot learn the token a byte at a time.
bool TokensEqual(absl::string_view a, absl::string_view b);

// 256 random bits from the system's CSPRNG, as 64 hex characters.
absl::StatusOr<std::string> GenerateToken();

}  // namespace reelfarm

#endif  // REELFARM_RPC_TOKEN_H_
