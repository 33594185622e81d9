#ifndef REELFARM_NODE_PIPELINE_COMM_SOCKET_COMMUNICATOR_H_
#define REELFARM_NODE_PIPELINE_COMM_SOCKET_COMMUNICATOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/pipeline/comm/communicator.h"
#include "node/pipeline/comm/rendezvous.h"
#include "node/pipeline/comm/socket_io.h"

namespace reelfarm::pipeline::comm {

// A Communicator over TCP, for device groups whose ranks are processes
// without NCCL between them (CPU renders, tests). A star through rank 0:
// every rank sends its part to rank 0, which combines the parts and sends
// the result back, so results are the bytes InProcessCommunicator gives
// (reductions add the ranks' tensors in rank order, starting from rank 0's).
//
// Tensors on other devices are staged through host memory and copied back.
// Every message carries a small header (operation, dtype, sequence number,
// byte count), so ranks calling different collectives get an error, not
// each other's bytes. A peer that closes or stays silent past the timeout
// fails the collective with Unavailable or DeadlineExceeded naming its rank;
// rank 0 passes the error on to the others. After any error the
// communicator is broken and every later call fails.
//
// One thread per communicator: its calls are not thread-safe (Abort
// aside).
class SocketCommunicator : public Communicator {
 public:
  struct Options {
    // Where rank 0 listens; port chosen by the OS.
    std::string bind_host = "127.0.0.1";
    // The host other ranks connect to; empty: bind_host, or this machine's
    // hostname when bind_host is a wildcard ("0.0.0.0", "::").
    std::string advertise_host;
    // Bounds every wait: connecting, each message, each collective's
    // arrival at rank 0.
    absl::Duration timeout = absl::Seconds(300);
  };

  // Collective over the group: every rank calls it. Rank 0 listens and
  // shares "host:port" through `rendezvous`; the others connect and say
  // hello with their rank and the group size, which rank 0 checks.
  static absl::StatusOr<std::unique_ptr<SocketCommunicator>> Create(
      int rank, int size, Rendezvous& rendezvous, Options options);
  static absl::StatusOr<std::unique_ptr<SocketCommunicator>> Create(
      int rank, int size, Rendezvous& rendezvous) {
    return Create(rank, size, rendezvous, Options());
  }
  ~SocketCommunicator() override = default;  // closes the sockets

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  absl::Status AllReduceSum(torch::Tensor& tensor) override;
  absl::Status AllGather(const torch::Tensor& input,
                         torch::Tensor& output) override;
  absl::Status Broadcast(torch::Tensor& tensor, int root) override;
  absl::Status Barrier() override;
  // Shuts the sockets down (closing them is the destructor's job): a
  // collective blocked on them returns an error, here and at the peers.
  void Abort() override;

  // Blocks until a peer's connection closes or fails (true) or `stop` is
  // set (false, seen within `tick`). Reads nothing: for watching the group
  // while no collective runs on this communicator (another one carries the
  // traffic), from a thread of its own.
  bool WaitForHangup(const std::atomic<bool>& stop, absl::Duration tick) const;

 private:
  enum class Op : uint16_t;
  struct Header;  // every message starts with one

  SocketCommunicator(int rank, int size, absl::Duration timeout)
      : rank_(rank), size_(size), timeout_(timeout) {}

  static absl::Status AcceptPeers(SocketCommunicator& comm,
                                  const socket_io::Fd& listener);
  static absl::Status JoinRankZero(SocketCommunicator& comm,
                                   const std::string& address,
                                   const Options& options);

  // Rank 0: receives every peer's header, checks it against `want`, then
  // the payload of each rank r whose `payloads[r]` is not null into it.
  absl::Status GatherFromPeers(const Header& want,
                               const std::vector<void*>& payloads);
  // Rank 0: sends `header` and `size` bytes of `data` to every peer except
  // `skip` (-1: none).
  absl::Status SendToPeers(const Header& header, const void* data, size_t size,
                           int skip);
  // Other ranks: a frame to rank 0; the reply header from rank 0, checked
  // against `want` (an error frame becomes the error it carries).
  absl::Status SendToRoot(const Header& header, const void* data, size_t size);
  absl::Status RecvReply(const Header& want, void* data);
  // The error rank 0 sent when `h` is an error frame (its message read),
  // else OK.
  absl::Status ErrorFrom(const Header& h);

  static const char* OpName(uint16_t op);
  // "all_gather #3 (96 bytes of Float)", for errors.
  static std::string Describe(const Header& h);
  // The next collective's header (the sequence number advances).
  Header MakeHeader(Op op, const torch::Tensor& t, int32_t arg = 0);
  // Records the first error, tells the peers (rank 0) and returns it.
  absl::Status Fail(absl::Status status);
  absl::Status CheckUsable() const;

  const int rank_;
  const int size_;
  const absl::Duration timeout_;
  uint32_t seq_ = 0;
  absl::Status broken_;
  // Rank 0: peers_[r] is rank r's connection (peers_[0] unused). Other
  // ranks: peers_[0] is rank 0.
  std::vector<socket_io::Fd> peers_;
};

}  // namespace reelfarm::pipeline::comm

#endif  // REELFARM_NODE_PIPELINE_COMM_SOCKET_COMMUNICATOR_H_
