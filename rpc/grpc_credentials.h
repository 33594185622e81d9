#ifndef REELFARM_RPC_GRPC_CREDENTIALS_H_
#define REELFARM_RPC_GRPC_CREDENTIALS_H_

#include <grpcpp/channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace reelfarm {

// How a client (node, CLI) proves itself to a coordinator and checks it.
struct ClientSecurity {
  std::string token;  // sent as "authorization: Bearer <token>"; "" sends none
  bool tls = false;
  std::string root_certs_pem;   // with tls: the CA to trust ("" system roots)
  std::string cert_chain_pem;   // mutual TLS: this client's certificate
  std::string private_key_pem;  // and its key
};

// Reads the files the flags name: the token from `token_file` or
// $REELFARM_TOKEN; TLS when any of the three PEM paths is given. A
// certificate without its key (or the reverse) is an error.
absl::StatusOr<ClientSecurity> LoadClientSecurity(const std::string& token_file,
                                                  const std::string& tls_ca,
                                                  const std::string& tls_cert,
                                                  const std::string& tls_key);

// A channel to the coordinator at host:port that attaches the token to every
// call and speaks TLS when asked.
std::shared_ptr<grpc::Channel> CoordinatorChannel(
    const std::string& address, const ClientSecurity& security,
    const grpc::ChannelArguments& args = grpc::ChannelArguments());

}  // namespace reelfarm

#endif  // REELFARM_RPC_GRPC_CREDENTIALS_H_
