#include "coordinator/token_authenticator.h"

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "rpc/token.h"

namespace reelfarm {

grpc::Status TokenAuthenticator::Check(
    const grpc::ServerContextBase& context) const {
  if (!enabled()) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find(kAuthorizationKey);
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "no token: this coordinator requires one (give "
                        "--token-file FILE or set REELFARM_TOKEN)");
  }
  const absl::string_view header(it->second.data(), it->second.size());
  // The scheme is case-insensitive (RFC 7235); the token is not.
  if (!absl::StartsWithIgnoreCase(header, kBearerPrefix)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "malformed authorization metadata: expected "
                        "'Bearer TOKEN'");
  }
  if (!TokensEqual(header.substr(sizeof(kBearerPrefix) - 1), token_)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "wrong token: it does not match the coordinator's "
                        "(check --token-file or REELFARM_TOKEN)");
  }
  return grpc::Status::OK;
}

}  // namespace reelfarm
