#include "rpc/token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace reelfarm {

absl::Status ValidateToken(absl::string_view token, absl::string_view source) {
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": empty token"));
  }
  for (char c : token) {
    // gRPC metadata values must be printable ASCII; spaces would make the
    // "Bearer" header ambiguous.
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": the token may hold only printable ASCII without spaces"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read token file ", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(text.str()));
  if (absl::Status st = ValidateToken(token, absl::StrCat("token file ", path));
      !st.ok()) {
    return st;
  }
  return token;
}

absl::StatusOr<std::string> ResolveToken(const std::string& token_file) {
  if (!token_file.empty()) return ReadTokenFile(token_file);
  const char* env = std::getenv(kTokenEnvVar);
  if (env == nullptr || *env == '\0') return std::string();
  std::string token(absl::StripAsciiWhitespace(env));
  if (absl::Status st = ValidateToken(token, kTokenEnvVar); !st.ok()) return st;
  return token;
}

bool TokensEqual(absl::string_view a, absl::string_view b) {
  // Hashing first gives two fixed-length strings, so neither a length check
  // nor an early exit can leak anything.
  Sha256 ha;
  ha.Update(a);
  Sha256 hb;
  hb.Update(b);
  const std::string da = ha.Digest();
  const std::string db = hb.Digest();
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

absl::StatusOr<std::string> GenerateToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("no random bytes for a token");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

}  // namespace reelfarm
