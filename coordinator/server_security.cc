#include "coordinator/server_security.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "rpc/pem_file.h"
#include "rpc/token.h"

namespace reelfarm {
namespace {

class WithoutReflectionOption : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    const std::string name = grpc::reflection::ProtoServerReflectionPlugin()
                                 .name();  // "proto_server_reflection"
    plugins->erase(
        std::remove_if(plugins->begin(), plugins->end(),
                       [&](const auto& p) { return p->name() == name; }),
        plugins->end());
  }
};

}  // namespace

absl::StatusOr<ServerSecurity> LoadServerSecurity(
    const std::string& token_file, bool insecure, const std::string& tls_cert,
    const std::string& tls_key, const std::string& tls_client_ca) {
  ServerSecurity security;
  security.insecure = insecure;
  if (insecure) {
    if (!token_file.empty()) {
      return absl::InvalidArgumentError(
          "--insecure and --token-file contradict each other; give one");
    }
    if (ResolveToken("").value_or("") != "") {
      LogWarning("--insecure: ignoring ", kTokenEnvVar, " and accepting ",
                 "every caller");
    }
  } else {
    absl::StatusOr<std::string> token = ResolveToken(token_file);
    if (!token.ok()) return token.status();
    security.token = *std::move(token);
  }
  if (absl::Status st =
          ReadOptionalPemFile(tls_cert, "--tls-cert", &security.cert_chain_pem);
      !st.ok()) {
    return st;
  }
  if (absl::Status st =
          ReadOptionalPemFile(tls_key, "--tls-key", &security.private_key_pem);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = ReadOptionalPemFile(tls_client_ca, "--tls-client-ca",
                                            &security.client_ca_pem);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = CheckServerSecurity(security); !st.ok()) return st;
  return security;
}

absl::Status CheckServerSecurity(const ServerSecurity& security) {
  if (!security.insecure && security.token.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to start without authentication: give --token-file FILE "
        "(or set ",
        kTokenEnvVar, "), or --insecure to accept every caller"));
  }
  if (security.cert_chain_pem.empty() != security.private_key_pem.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!security.client_ca_pem.empty() && security.cert_chain_pem.empty()) {
    return absl::InvalidArgumentError(
        "--tls-client-ca needs --tls-cert and --tls-key");
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const ServerSecurity& security) {
  if (security.cert_chain_pem.empty()) {
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions options(
      security.client_ca_pem.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = security.client_ca_pem;
  options.pem_key_cert_pairs.push_back(
      {security.private_key_pem, security.cert_chain_pem});
  return grpc::SslServerCredentials(options);
}

std::unique_ptr<grpc::ServerBuilderOption> WithoutReflection() {
  return std::make_unique<WithoutReflectionOption>();
}

}  // namespace reelfarm
