#ifndef REELFARM_CLI_SECURITY_FLAGS_H_
#define REELFARM_CLI_SECURITY_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "coordinator/server_security.h"
#include "rpc/grpc_credentials.h"

namespace reelfarm::cli {

// The coordinator's: --token-file, --insecure, --tls-cert, --tls-key,
// --tls-client-ca.
class ServerSecurityFlags {
 public:
  void Register(FlagSet& flags);
  // Reads the files; refuses neither a token nor --insecure.
  absl::StatusOr<ServerSecurity> Load() const;

 private:
  std::string token_file_;
  bool insecure_ = false;
  std::string tls_cert_;
  std::string tls_key_;
  std::string tls_client_ca_;
};

// A client's (node, submit, status, watch, cancel): --token-file, --tls-ca,
// --tls-cert, --tls-key.
class ClientSecurityFlags {
 public:
  void Register(FlagSet& flags);
  absl::StatusOr<ClientSecurity> Load() const;

 private:
  std::string token_file_;
  std::string tls_ca_;
  std::string tls_cert_;
  std::string tls_key_;
};

}  // namespace reelfarm::cli

#endif  // REELFARM_CLI_SECURITY_FLAGS_H_
