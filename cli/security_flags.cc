#include "cli/security_flags.h"

namespace reelfarm::cli {

void ServerSecurityFlags::Register(FlagSet& flags) {
  flags.String("token-file", &token_file_,
               "file holding the token every call must present (default: "
               "$REELFARM_TOKEN)");
  flags.Bool("insecure", &insecure_,
             "accept calls without a token (local use only)");
  flags.String("tls-cert", &tls_cert_, "PEM certificate chain: serve TLS");
  flags.String("tls-key", &tls_key_, "PEM private key of --tls-cert");
  flags.String("tls-client-ca", &tls_client_ca_,
               "PEM CA: require client certificates it signed");
}

absl::StatusOr<ServerSecurity> ServerSecurityFlags::Load() const {
  return LoadServerSecurity(token_file_, insecure_, tls_cert_, tls_key_,
                            tls_client_ca_);
}

void ClientSecurityFlags::Register(FlagSet& flags) {
  flags.String("token-file", &token_file_,
               "file holding the coordinator's token (default: "
               "$REELFARM_TOKEN)");
  flags.String("tls-ca", &tls_ca_,
               "PEM CA that signed the coordinator's certificate: use TLS");
  flags.String("tls-cert", &tls_cert_,
               "PEM client certificate for mutual TLS (implies TLS)");
  flags.String("tls-key", &tls_key_, "PEM private key of --tls-cert");
}

absl::StatusOr<ClientSecurity> ClientSecurityFlags::Load() const {
  return LoadClientSecurity(token_file_, tls_ca_, tls_cert_, tls_key_);
}

}  // namespace reelfarm::cli
