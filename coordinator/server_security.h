#ifndef REELFARM_COORDINATOR_SERVER_SECURITY_H_
#define REELFARM_COORDINATOR_SERVER_SECURITY_H_

#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace reelfarm {

// How a coordinator authenticates its callers and protects the wire.
struct ServerSecurity {
  // The shared secret every call must present; required unless `insecure`.
  std::string token;
  // Accept calls without a token. Must be asked for: a coordinator with
  // neither refuses to start.
  bool insecure = false;
  // TLS when both are set (PEM contents, not paths).
  std::string cert_chain_pem;
  std::string private_key_pem;
  // With TLS: require client certificates signed by this CA.
  std::string client_ca_pem;
};

// Reads the files the coordinator's flags name. The token comes from
// `token_file` or $REELFARM_TOKEN; --insecure together with --token-file is
// a contradiction and an error, while a $REELFARM_TOKEN left in the
// environment is ignored under --insecure.
absl::StatusOr<ServerSecurity> LoadServerSecurity(
    const std::string& token_file, bool insecure, const std::string& tls_cert,
    const std::string& tls_key, const std::string& tls_client_ca);

// Rejects settings that cannot work or would silently serve anyone.
absl::Status CheckServerSecurity(const ServerSecurity& security);

// TLS (optionally mutual) or plaintext credentials for the listening port.
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const ServerSecurity& security);

// A builder option that drops the reflection service from one server:
// reflection cannot check tokens, so it is off whenever they are required.
std::unique_ptr<grpc::ServerBuilderOption> WithoutReflection();

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_SERVER_SECURITY_H_
