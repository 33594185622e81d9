// A real coordinator on 127.0.0.1 (OS-chosen port) and clients with no
// token, the wrong one and the right one. Every method of the Coordinator
// service is called, found from its descriptor, so a method added later
// without the check fails here.

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coordinator/coordinator_server.h"
#include "google/protobuf/descriptor.h"
#include "node/node_agent.h"
#include "reelfarm/v1/coordinator.grpc.pb.h"
#include "rpc/grpc_credentials.h"

namespace reelfarm {
namespace {

constexpr char kToken[] = "correct-horse-battery-staple";

std::unique_ptr<CoordinatorServer> StartCoordinator(ServerSecurity security) {
  CoordinatorOptions options;
  options.listen_address = "127.0.0.1:0";
  options.security = std::move(security);
  absl::StatusOr<std::unique_ptr<CoordinatorServer>> server =
      CoordinatorServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

ServerSecurity WithToken() {
  ServerSecurity s;
  s.token = kToken;
  return s;
}

ServerSecurity Insecure() {
  ServerSecurity s;
  s.insecure = true;
  return s;
}

std::shared_ptr<grpc::Channel> ChannelWithToken(const std::string& address,
                                                const std::string& token) {
  ClientSecurity security;
  security.token = token;
  return CoordinatorChannel(address, security);
}

// Calls `method` ("/package.Service/Method") with an empty request, which
// every request message parses from; `header` is sent as the authorization
// metadata when not empty.
grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& method,
                     const std::string& header = "") {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!header.empty()) ctx.AddMetadata("authorization", header);
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status st) { done.set_value(std::move(st)); });
  return done.get_future().get();
}

std::vector<std::string> CoordinatorMethods() {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          v1::Coordinator::service_full_name());
  std::vector<std::string> methods;
  for (int i = 0; service != nullptr && i < service->method_count(); ++i) {
    methods.push_back(absl::StrCat("/", service->full_name(), "/",
                                   service->method(i)->name()));
  }
  return methods;
}

std::shared_ptr<grpc::Channel> Plaintext(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

TEST(AuthTest, CoordinatorWithNeitherTokenNorInsecureRefusesToStart) {
  CoordinatorOptions options;
  options.listen_address = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<CoordinatorServer>> server =
      CoordinatorServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(server.status().message().find("--insecure"), std::string::npos)
      << server.status();
}

TEST(AuthTest, EveryMethodRefusesACallWithoutAToken) {
  auto server = StartCoordinator(WithToken());
  ASSERT_NE(server, nullptr);
  const std::vector<std::string> methods = CoordinatorMethods();
  ASSERT_GE(methods.size(), 11u);
  for (const std::string& method : methods) {
    const grpc::Status st = RawCall(Plaintext(server->address()), method);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
    EXPECT_NE(st.error_message().find("no token"), std::string::npos)
        << method << ": " << st.error_message();
  }
}

TEST(AuthTest, EveryMethodRefusesAWrongToken) {
  auto server = StartCoordinator(WithToken());
  ASSERT_NE(server, nullptr);
  const std::string right = kToken;
  for (const std::string& wrong :
       {std::string("nope"), right.substr(0, right.size() - 1), right + "x",
        std::string("CORRECT-horse-battery-staple")}) {
    auto channel = ChannelWithToken(server->address(), wrong);
    for (const std::string& method : CoordinatorMethods()) {
      const grpc::Status st = RawCall(channel, method);
      EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method << " with " << wrong;
      EXPECT_NE(st.error_message().find("wrong token"), std::string::npos)
          << st.error_message();
    }
  }
}

TEST(AuthTest, AMalformedAuthorizationHeaderIsRefused) {
  auto server = StartCoordinator(WithToken());
  ASSERT_NE(server, nullptr);
  const std::string list = "/reelfarm.v1.Coordinator/ListSweeps";
  for (const std::string& header :
       {absl::StrCat("Basic ", kToken), std::string(kToken),
        absl::StrCat("Bearer", kToken)}) {
    const grpc::Status st = RawCall(Plaintext(server->address()), list, header);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << header;
    EXPECT_NE(st.error_message().find("Bearer"), std::string::npos)
        << st.error_message();
  }
  EXPECT_TRUE(RawCall(Plaintext(server->address()), list,
                      absl::StrCat("bearer ", kToken))
                  .ok());
}

TEST(AuthTest, TheRightTokenWorks) {
  auto server = StartCoordinator(WithToken());
  ASSERT_NE(server, nullptr);
  auto stub =
      v1::Coordinator::NewStub(ChannelWithToken(server->address(), kToken));
  grpc::ClientContext ctx;
  v1::RegisterNodeRequest request;
  request.mutable_node()->set_id("n1");
  request.mutable_node()->set_lanes(1);
  v1::RegisterNodeResponse response;
  const grpc::Status st = stub->RegisterNode(&ctx, request, &response);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(response.node_id(), "n1");
  grpc::ClientContext list_ctx;
  v1::ListSweepsResponse sweeps;
  EXPECT_TRUE(
      stub->ListSweeps(&list_ctx, v1::ListSweepsRequest(), &sweeps).ok());
}

TEST(AuthTest, InsecureAcceptsCallsWithoutAToken) {
  auto server = StartCoordinator(Insecure());
  ASSERT_NE(server, nullptr);
  auto stub = v1::Coordinator::NewStub(Plaintext(server->address()));
  grpc::ClientContext ctx;
  v1::ListSweepsResponse sweeps;
  const grpc::Status st =
      stub->ListSweeps(&ctx, v1::ListSweepsRequest(), &sweeps);
  EXPECT_TRUE(st.ok()) << st.error_message();
}

TEST(AuthTest, HealthStaysOpenAndReflectionIsOffWhenATokenIsRequired) {
  const std::string health = "/grpc.health.v1.Health/Check";
  const std::string reflection =
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
  auto secured = StartCoordinator(WithToken());
  ASSERT_NE(secured, nullptr);
  EXPECT_TRUE(RawCall(Plaintext(secured->address()), health).ok());
  EXPECT_EQ(RawCall(Plaintext(secured->address()), reflection).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(RawCall(ChannelWithToken(secured->address(), kToken), reflection)
                .error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  auto open = StartCoordinator(Insecure());
  ASSERT_NE(open, nullptr);
  EXPECT_NE(RawCall(Plaintext(open->address()), reflection).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST(AuthTest, NodeWithTheWrongTokenFailsAtOnceAndSaysWhy) {
  auto server = StartCoordinator(WithToken());
  ASSERT_NE(server, nullptr);
  NodeOptions options;
  options.coordinator = server->address();
  options.security.token = "not-the-token";
  NodeAgent node(options);
  const absl::Status st = node.Start();  // no retry loop: returns
  EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << st;
  EXPECT_NE(st.message().find("wrong token"), std::string::npos) << st;
  EXPECT_NE(st.message().find(server->address()), std::string::npos) << st;
}

TEST(AuthTest, NodeWithTheRightTokenRegisters) {
  auto server = StartCoordinator(WithToken());
  ASSERT_NE(server, nullptr);
  NodeOptions options;
  options.coordinator = server->address();
  options.security.token = kToken;
  options.node_id = "good-node";
  NodeAgent node(options);
  ASSERT_TRUE(node.Start().ok());
  EXPECT_EQ(node.node_id(), "good-node");
  node.Stop();
}

TEST(LoadServerSecurityTest, TokenOrExplicitInsecureAndNeverBoth) {
  unsetenv("REELFARM_TOKEN");
  const std::string dir = ::testing::TempDir();
  const std::string token_file = dir + "/auth_test_token";
  std::ofstream(token_file) << "from-file\n";

  absl::StatusOr<ServerSecurity> s =
      LoadServerSecurity(token_file, false, "", "", "");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->token, "from-file");

  EXPECT_EQ(LoadServerSecurity("", false, "", "", "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(LoadServerSecurity(token_file, true, "", "", "").status().code(),
            absl::StatusCode::kInvalidArgument);

  // A token left in the environment does not turn --insecure into auth.
  setenv("REELFARM_TOKEN", "from-env", 1);
  s = LoadServerSecurity("", true, "", "", "");
  unsetenv("REELFARM_TOKEN");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->insecure);
  EXPECT_EQ(s->token, "");
}

TEST(CheckServerSecurityTest, TlsSettingsMustBeComplete) {
  ServerSecurity s;
  s.token = "t";
  s.cert_chain_pem = "cert";
  EXPECT_EQ(CheckServerSecurity(s).code(),
            absl::StatusCode::kInvalidArgument);  // no key
  s.cert_chain_pem.clear();
  s.client_ca_pem = "ca";
  EXPECT_EQ(CheckServerSecurity(s).code(),
            absl::StatusCode::kInvalidArgument);  // client CA without TLS
}

}  // namespace
}  // namespace reelfarm
