// A rank of a device group in its own process, for tests: meets the other
// ranks through the coordinator's Rendezvous RPC, connects a
// SocketCommunicator, runs comm_probe::Run and prints its lines.
//
//   comm_probe --coordinator HOST:PORT --token-file FILE --group NAME
//              --rank R --size N [--timeout-ms MS]
//
// Exits 0 after printing; 1 with the error on stderr; 2 for bad flags.

#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "node/group/grpc_rendezvous.h"
#include "node/pipeline/comm/socket_communicator.h"
#include "reelfarm/v1/coordinator.grpc.pb.h"
#include "rpc/grpc_credentials.h"
#include "tests/node/comm_probe_lib.h"

namespace reelfarm {
namespace {

int Fail(const absl::Status& status) {
  std::cerr << "comm_probe: " << status << std::endl;
  return 1;
}

int Main(int argc, char** argv) {
  std::map<std::string, std::string> flags = {{"--timeout-ms", "60000"},
                                              {"--token-file", ""}};
  for (int i = 1; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  int rank = -1, size = 0, timeout_ms = 0;
  if (argc % 2 != 1 || flags.count("--coordinator") == 0 ||
      flags.count("--group") == 0 ||
      !absl::SimpleAtoi(flags["--rank"], &rank) ||
      !absl::SimpleAtoi(flags["--size"], &size) ||
      !absl::SimpleAtoi(flags["--timeout-ms"], &timeout_ms)) {
    std::cerr << "usage: comm_probe --coordinator HOST:PORT --token-file FILE "
                 "--group NAME --rank R --size N [--timeout-ms MS]\n";
    return 2;
  }
  absl::StatusOr<ClientSecurity> security =
      LoadClientSecurity(flags["--token-file"], "", "", "");
  if (!security.ok()) return Fail(security.status());
  std::unique_ptr<v1::Coordinator::Stub> stub = v1::Coordinator::NewStub(
      CoordinatorChannel(flags["--coordinator"], *security));
  GrpcRendezvous::Options meet;
  meet.timeout = absl::Milliseconds(timeout_ms);
  GrpcRendezvous rendezvous(stub.get(), flags["--group"], size, meet);
  pipeline::comm::SocketCommunicator::Options options;
  options.timeout = absl::Milliseconds(timeout_ms);
  auto comm = pipeline::comm::SocketCommunicator::Create(rank, size, rendezvous,
                                                         options);
  if (!comm.ok()) return Fail(comm.status());
  absl::StatusOr<std::vector<std::string>> lines =
      comm_probe::Run(**comm, comm_probe::Inputs(rank));
  if (!lines.ok()) return Fail(lines.status());
  for (const std::string& line : *lines) std::cout << line << "\n";
  std::cout.flush();
  return 0;
}

}  // namespace
}  // namespace reelfarm

int main(int argc, char** argv) { return reelfarm::Main(argc, argv); }
