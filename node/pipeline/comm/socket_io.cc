#include "node/pipeline/comm/socket_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace reelfarm::pipeline::comm::socket_io {
namespace {

std::string Errno(int err) { return std::strerror(err); }

// Milliseconds to the deadline for poll(), at least 0 and rounded up so a
// deadline a few microseconds away is not a busy loop.
int PollMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(left + absl::Milliseconds(1) -
                                                  absl::Nanoseconds(1)),
                        1 << 30));
}

// Waits for `events` on `fd`; DeadlineExceeded when the deadline passes.
absl::Status Await(int fd, short events, absl::Time deadline,
                   absl::string_view peer, absl::string_view what) {
  while (true) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, PollMs(deadline));
    if (n > 0) return absl::OkStatus();
    if (n < 0 && errno != EINTR) {
      return absl::UnavailableError(
          absl::StrCat(peer, ": poll: ", Errno(errno)));
    }
    if (n == 0 && absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(peer, ": timed out waiting to ", what));
    }
  }
}

absl::Status SetSocketOptions(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return absl::InternalError(absl::StrCat("fcntl: ", Errno(errno)));
  }
  // Collectives are small request/response exchanges: no Nagle delay.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return absl::OkStatus();
}

struct AddrInfoDeleter {
  void operator()(addrinfo* a) const { ::freeaddrinfo(a); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

absl::StatusOr<AddrInfoPtr> Resolve(const std::string& host, int port,
                                    bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(),
                               service.c_str(), &hints, &result);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve '", host, "': ", ::gai_strerror(rc)));
  }
  return AddrInfoPtr(result);
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void Fd::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string JoinHostPort(absl::string_view host, int port) {
  if (host.find(':') != absl::string_view::npos) {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    absl::string_view address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", address, "' is not host:port"));
  }
  absl::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(std::string(host), port);
}

absl::StatusOr<Fd> Listen(const std::string& host, int backlog, int* port) {
  absl::StatusOr<AddrInfoPtr> addrs = Resolve(host, 0, /*passive=*/true);
  if (!addrs.ok()) return addrs.status();
  std::string last_error = "no address";
  for (const addrinfo* a = addrs->get(); a != nullptr; a = a->ai_next) {
    Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      last_error = absl::StrCat("socket: ", Errno(errno));
      continue;
    }
    if (::bind(fd.get(), a->ai_addr, a->ai_addrlen) != 0 ||
        ::listen(fd.get(), backlog) != 0) {
      last_error = absl::StrCat("bind/listen: ", Errno(errno));
      continue;
    }
    if (absl::Status st = SetSocketOptions(fd.get()); !st.ok()) return st;
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) !=
        0) {
      return absl::InternalError(absl::StrCat("getsockname: ", Errno(errno)));
    }
    *port = ntohs(bound.ss_family == AF_INET6
                      ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                      : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    return fd;
  }
  return absl::UnavailableError(
      absl::StrCat("cannot listen on '", host, "': ", last_error));
}

absl::StatusOr<Fd> Accept(const Fd& listener, absl::Time deadline) {
  while (true) {
    if (absl::Status st = Await(listener.get(), POLLIN, deadline, "listener",
                                "accept a connection");
        !st.ok()) {
      return st;
    }
    Fd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (fd.valid()) {
      if (absl::Status st = SetSocketOptions(fd.get()); !st.ok()) return st;
      return fd;
    }
    // The connection may have gone before we took it; wait for another.
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
        errno != ECONNABORTED) {
      return absl::UnavailableError(absl::StrCat("accept: ", Errno(errno)));
    }
  }
}

absl::StatusOr<Fd> Connect(const std::string& host, int port,
                           absl::Time deadline, absl::string_view peer) {
  absl::StatusOr<AddrInfoPtr> addrs = Resolve(host, port, /*passive=*/false);
  if (!addrs.ok()) return addrs.status();
  absl::Status last = absl::UnavailableError("no address");
  for (const addrinfo* a = addrs->get(); a != nullptr; a = a->ai_next) {
    Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      last = absl::UnavailableError(absl::StrCat("socket: ", Errno(errno)));
      continue;
    }
    if (absl::Status st = SetSocketOptions(fd.get()); !st.ok()) return st;
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = absl::UnavailableError(
            absl::StrCat("cannot connect to ", peer, " at ",
                         JoinHostPort(host, port), ": ", Errno(errno)));
        continue;
      }
      if (absl::Status st = Await(fd.get(), POLLOUT, deadline, peer, "connect");
          !st.ok()) {
        return st;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last = absl::UnavailableError(
            absl::StrCat("cannot connect to ", peer, " at ",
                         JoinHostPort(host, port), ": ", Errno(err)));
        continue;
      }
    }
    return fd;
  }
  return last;
}

absl::Status SendAll(const Fd& fd, const void* data, size_t size,
                     absl::Time deadline, absl::string_view peer) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    // MSG_NOSIGNAL: a peer that went away is an error status, not SIGPIPE.
    const ssize_t n = ::send(fd.get(), p, size, MSG_NOSIGNAL);
    if (n > 0) {
      p += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (absl::Status st = Await(fd.get(), POLLOUT, deadline, peer, "send");
          !st.ok()) {
        return st;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return absl::UnavailableError(absl::StrCat(peer, ": send: ", Errno(errno)));
  }
  return absl::OkStatus();
}

absl::Status RecvAll(const Fd& fd, void* data, size_t size, absl::Time deadline,
                     absl::string_view peer) {
  return RecvAllFromMany({Inbound{&fd, std::string(peer), data, size}},
                         deadline);
}

absl::Status RecvAllFromMany(const std::vector<Inbound>& inbound,
                             absl::Time deadline) {
  std::vector<size_t> done(inbound.size(), 0);
  while (true) {
    std::vector<pollfd> polls;
    std::vector<size_t> which;
    for (size_t i = 0; i < inbound.size(); ++i) {
      if (done[i] < inbound[i].size) {
        polls.push_back(pollfd{inbound[i].fd->get(), POLLIN, 0});
        which.push_back(i);
      }
    }
    if (polls.empty()) return absl::OkStatus();
    const int n = ::poll(polls.data(), polls.size(), PollMs(deadline));
    if (n < 0 && errno != EINTR) {
      return absl::UnavailableError(absl::StrCat("poll: ", Errno(errno)));
    }
    if (n <= 0) {
      if (absl::Now() < deadline) continue;
      std::vector<std::string> late;
      for (size_t i : which) late.push_back(inbound[i].peer);
      return absl::DeadlineExceededError(
          absl::StrCat("timed out waiting for ", absl::StrJoin(late, ", ")));
    }
    for (size_t k = 0; k < polls.size(); ++k) {
      if (polls[k].revents == 0) continue;
      const Inbound& in = inbound[which[k]];
      size_t& got = done[which[k]];
      const ssize_t r = ::recv(in.fd->get(), static_cast<char*>(in.data) + got,
                               in.size - got, 0);
      if (r > 0) {
        got += static_cast<size_t>(r);
      } else if (r == 0) {
        return absl::UnavailableError(
            absl::StrCat(in.peer, " closed the connection"));
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return absl::UnavailableError(
            absl::StrCat(in.peer, ": recv: ", Errno(errno)));
      }
    }
  }
}

}  // namespace reelfarm::pipeline::comm::socket_io
