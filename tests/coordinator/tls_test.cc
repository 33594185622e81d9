// A coordinator serving TLS with a certificate from a CA made here with the
// openssl program, and clients that trust it, trust another CA, speak
// plaintext, or (with client certificates required) bring none.

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "coordinator/coordinator_server.h"
#include "reelfarm/v1/coordinator.grpc.pb.h"
#include "rpc/grpc_credentials.h"
#include "rpc/pem_file.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;

constexpr char kToken[] = "tls-test-token";

// Runs a shell command; true when it exits 0.
bool Shell(const std::string& command) {
  return std::system(command.c_str()) == 0;
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::path(::testing::TempDir()) / "reelfarm_tls_test");
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    // P-256 keys: quick to make. The server's certificate names 127.0.0.1,
    // the address the tests dial.
    const std::string script = R"(set -e
cd ")" + dir_->string() + R"("
key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
ca() { openssl req -x509 $key -keyout $1.key -out $1.pem -days 2 -subj /CN=$1; }
leaf() {
  openssl req $key -keyout $1.key -out $1.csr -subj /CN=$1
  printf "$3" > $1.ext
  openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial \
    -out $1.pem -days 2 -extfile $1.ext
}
ca ca
ca other-ca
leaf server ca "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
leaf client ca "extendedKeyUsage=clientAuth\n"
leaf stranger other-ca "extendedKeyUsage=clientAuth\n"
)";
    std::ofstream(*dir_ / "make.sh") << script;
    generated_ = Shell("bash '" + (*dir_ / "make.sh").string() + "' >'" +
                       (*dir_ / "make.log").string() + "' 2>&1");
  }
  static void TearDownTestSuite() { delete dir_; }

  void SetUp() override {
    ASSERT_TRUE(generated_)
        << "openssl failed; see " << (*dir_ / "make.log").string();
  }

  static std::string Pem(const std::string& name) {
    absl::StatusOr<std::string> pem =
        ReadPemFile((*dir_ / name).string(), name);
    EXPECT_TRUE(pem.ok()) << pem.status();
    return pem.value_or("");
  }

  static std::unique_ptr<CoordinatorServer> Start(bool require_client_cert) {
    CoordinatorOptions options;
    options.listen_address = "127.0.0.1:0";
    options.security.token = kToken;
    options.security.cert_chain_pem = Pem("server.pem");
    options.security.private_key_pem = Pem("server.key");
    if (require_client_cert) options.security.client_ca_pem = Pem("ca.pem");
    absl::StatusOr<std::unique_ptr<CoordinatorServer>> server =
        CoordinatorServer::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  // ListSweeps over `channel`.
  static grpc::Status Call(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = v1::Coordinator::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    v1::ListSweepsResponse response;
    return stub->ListSweeps(&ctx, v1::ListSweepsRequest(), &response);
  }

  static ClientSecurity Trusting(const std::string& ca) {
    ClientSecurity s;
    s.token = kToken;
    s.tls = true;
    s.root_certs_pem = Pem(ca);
    return s;
  }

  static fs::path* dir_;
  static bool generated_;
};

fs::path* TlsTest::dir_ = nullptr;
bool TlsTest::generated_ = false;

TEST_F(TlsTest, ClientTrustingTheCaSucceeds) {
  auto server = Start(/*require_client_cert=*/false);
  ASSERT_NE(server, nullptr);
  const grpc::Status st =
      Call(CoordinatorChannel(server->address(), Trusting("ca.pem")));
  EXPECT_TRUE(st.ok()) << st.error_message();
}

TEST_F(TlsTest, TheTokenIsStillCheckedOverTls) {
  auto server = Start(false);
  ASSERT_NE(server, nullptr);
  ClientSecurity no_token = Trusting("ca.pem");
  no_token.token.clear();
  EXPECT_EQ(Call(CoordinatorChannel(server->address(), no_token)).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TlsTest, PlaintextClientFails) {
  auto server = Start(false);
  ASSERT_NE(server, nullptr);
  ClientSecurity plaintext;
  plaintext.token = kToken;
  const grpc::Status st =
      Call(CoordinatorChannel(server->address(), plaintext));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE)
      << st.error_message();
}

TEST_F(TlsTest, ClientTrustingAnotherCaFails) {
  auto server = Start(false);
  ASSERT_NE(server, nullptr);
  const grpc::Status st =
      Call(CoordinatorChannel(server->address(), Trusting("other-ca.pem")));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE)
      << st.error_message();
}

TEST_F(TlsTest, WithAClientCaAClientWithoutACertificateIsRefused) {
  auto server = Start(/*require_client_cert=*/true);
  ASSERT_NE(server, nullptr);
  const grpc::Status st =
      Call(CoordinatorChannel(server->address(), Trusting("ca.pem")));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << "refused in the handshake, before any token is read";
}

TEST_F(TlsTest, WithAClientCaOnlyItsCertificatesAreAccepted) {
  auto server = Start(true);
  ASSERT_NE(server, nullptr);
  ClientSecurity mutual = Trusting("ca.pem");
  mutual.cert_chain_pem = Pem("client.pem");
  mutual.private_key_pem = Pem("client.key");
  const grpc::Status ok = Call(CoordinatorChannel(server->address(), mutual));
  EXPECT_TRUE(ok.ok()) << ok.error_message();

  ClientSecurity stranger = Trusting("ca.pem");
  stranger.cert_chain_pem = Pem("stranger.pem");
  stranger.private_key_pem = Pem("stranger.key");
  EXPECT_FALSE(Call(CoordinatorChannel(server->address(), stranger)).ok());
}

TEST_F(TlsTest, LoadClientSecurityReadsTheFilesAndPairsCertWithKey) {
  const std::string ca = (*dir_ / "ca.pem").string();
  const std::string cert = (*dir_ / "client.pem").string();
  const std::string key = (*dir_ / "client.key").string();
  absl::StatusOr<ClientSecurity> s = LoadClientSecurity("", ca, cert, key);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->tls);
  EXPECT_EQ(s->root_certs_pem, Pem("ca.pem"));
  EXPECT_EQ(LoadClientSecurity("", ca, cert, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadClientSecurity("", (*dir_ / "make.sh").string(), "", "")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);  // not PEM
}

}  // namespace
}  // namespace reelfarm
