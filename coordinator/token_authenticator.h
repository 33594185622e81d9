#ifndef REELFARM_COORDINATOR_TOKEN_AUTHENTICATOR_H_
#define REELFARM_COORDINATOR_TOKEN_AUTHENTICATOR_H_

#include <grpcpp/server_context.h>

#include <string>

namespace reelfarm {

// Checks the "authorization: Bearer <token>" metadata of a call against the
// coordinator's shared secret. Every Coordinator method calls Check first.
// Health checking is deliberately not behind it: load balancers and
// orchestrators probe it without credentials, and it reveals only whether
// the server is up.
class TokenAuthenticator {
 public:
  // An empty token accepts every call (the --insecure mode).
  explicit TokenAuthenticator(std::string token) : token_(std::move(token)) {}

  bool enabled() const { return !token_.empty(); }

  // OK, or UNAUTHENTICATED with a message that says what is wrong: no token,
  // a malformed header, or the wrong token.
  grpc::Status Check(const grpc::ServerContextBase& context) const;

 private:
  const std::string token_;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_TOKEN_AUTHENTICATOR_H_
