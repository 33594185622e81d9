#ifndef REELFARM_NODE_PIPELINE_COMM_SOCKET_IO_H_
#define REELFARM_NODE_PIPELINE_COMM_SOCKET_IO_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

// Blocking-with-deadline TCP helpers for the socket communicator. Sockets
// are non-blocking and close-on-exec; every wait is a poll() bounded by a
// deadline, and writes never raise SIGPIPE. Errors name the peer.
namespace reelfarm::pipeline::comm::socket_io {

// Owns a file descriptor; closes it when destroyed.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Close();

 private:
  int fd_ = -1;
};

// "host:port", with brackets around an IPv6 host.
std::string JoinHostPort(absl::string_view host, int port);
// The reverse; InvalidArgument for anything else.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    absl::string_view address);

// A socket listening on `host` at a port the OS picks; `*port` gets it.
absl::StatusOr<Fd> Listen(const std::string& host, int backlog, int* port);
// The next connection to `listener`, or DeadlineExceeded.
absl::StatusOr<Fd> Accept(const Fd& listener, absl::Time deadline);
// A connection to host:port (TCP_NODELAY set), or Unavailable /
// DeadlineExceeded naming `peer`.
absl::StatusOr<Fd> Connect(const std::string& host, int port,
                           absl::Time deadline, absl::string_view peer);

absl::Status SendAll(const Fd& fd, const void* data, size_t size,
                     absl::Time deadline, absl::string_view peer);
absl::Status RecvAll(const Fd& fd, void* data, size_t size, absl::Time deadline,
                     absl::string_view peer);

// One buffer to fill from one socket.
struct Inbound {
  const Fd* fd;
  std::string peer;  // for errors: "rank 2"
  void* data;
  size_t size;
};
// Fills every buffer, reading the sockets as their data arrives, so a peer
// that closes is noticed at once even while others are still silent. The
// first failure ends the call; on DeadlineExceeded the message names every
// peer not finished.
absl::Status RecvAllFromMany(const std::vector<Inbound>& inbound,
                             absl::Time deadline);

}  // namespace reelfarm::pipeline::comm::socket_io

#endif  // REELFARM_NODE_PIPELINE_COMM_SOCKET_IO_H_
