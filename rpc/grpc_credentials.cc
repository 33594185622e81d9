#include "rpc/grpc_credentials.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/client_interceptor.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rpc/pem_file.h"
#include "rpc/token.h"

namespace reelfarm {
namespace {

namespace gx = grpc::experimental;

// Adds the bearer token to each call's metadata. An interceptor rather than
// call credentials: gRPC sends call credentials only over TLS, and a token on
// a trusted plaintext network is a supported setup.
class BearerInterceptor : public gx::Interceptor {
 public:
  explicit BearerInterceptor(std::string header) : header_(std::move(header)) {}
  void Intercept(gx::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            gx::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace(kAuthorizationKey, header_);
    }
    methods->Proceed();
  }

 private:
  const std::string header_;
};

class BearerInterceptorFactory : public gx::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(const std::string& token)
      : header_(absl::StrCat(kBearerPrefix, token)) {}
  gx::Interceptor* CreateClientInterceptor(gx::ClientRpcInfo*) override {
    return new BearerInterceptor(header_);
  }

 private:
  const std::string header_;
};

}  // namespace

absl::StatusOr<ClientSecurity> LoadClientSecurity(const std::string& token_file,
                                                  const std::string& tls_ca,
                                                  const std::string& tls_cert,
                                                  const std::string& tls_key) {
  ClientSecurity security;
  absl::StatusOr<std::string> token = ResolveToken(token_file);
  if (!token.ok()) return token.status();
  security.token = *std::move(token);
  if (tls_cert.empty() != tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  security.tls = !tls_ca.empty() || !tls_cert.empty();
  if (absl::Status st =
          ReadOptionalPemFile(tls_ca, "--tls-ca", &security.root_certs_pem);
      !st.ok()) {
    return st;
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
  return security;
}

std::shared_ptr<grpc::Channel> CoordinatorChannel(
    const std::string& address, const ClientSecurity& security,
    const grpc::ChannelArguments& args) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (security.tls) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = security.root_certs_pem;
    options.pem_cert_chain = security.cert_chain_pem;
    options.pem_private_key = security.private_key_pem;
    credentials = grpc::SslCredentials(options);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  if (security.token.empty()) {
    return grpc::CreateCustomChannel(address, credentials, args);
  }
  std::vector<std::unique_ptr<gx::ClientInterceptorFactoryInterface>> chain;
  chain.push_back(std::make_unique<BearerInterceptorFactory>(security.token));
  return gx::CreateCustomChannelWithInterceptors(address, credentials, args,
                                                 std::move(chain));
}

}  // namespace reelfarm
