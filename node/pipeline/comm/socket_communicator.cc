#include "node/pipeline/comm/socket_communicator.h"

#include <poll.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/hostname.h"

namespace reelfarm::pipeline::comm {

using socket_io::Fd;
using socket_io::Inbound;

enum class SocketCommunicator::Op : uint16_t {
  kHello = 1,  // arg: the sender's rank; bytes: the group size
  kAllReduceSum = 2,
  kAllGather = 3,
  kBroadcast = 4,  // arg: the root
  kBarrier = 5,
  kError = 6,  // arg: an absl::StatusCode; the payload is the message
};

// Native byte order: ranks of a device group run on like machines.
struct SocketCommunicator::Header {
  uint32_t magic;
  uint16_t op;
  uint16_t dtype;  // c10::ScalarType
  uint32_t seq;    // the collective's number, counted alike on every rank
  int32_t arg;
  uint64_t bytes;  // the tensor's size (a payload of it may follow)
};

namespace {

constexpr uint32_t kMagic = 0x52465343;  // "RFSC"
// Error frames are short messages; anything longer is not one.
constexpr uint64_t kMaxErrorBytes = 64 * 1024;

std::string RankName(int rank) { return absl::StrCat("rank ", rank); }

// A contiguous host copy of `t`, or `t` itself when it already is one.
torch::Tensor ToHost(const torch::Tensor& t) {
  return t.device().is_cpu() ? t.contiguous() : t.to(torch::kCPU).contiguous();
}

size_t Bytes(const torch::Tensor& t) { return t.numel() * t.element_size(); }

}  // namespace

const char* SocketCommunicator::OpName(uint16_t op) {
  switch (static_cast<Op>(op)) {
    case Op::kHello:
      return "hello";
    case Op::kAllReduceSum:
      return "all_reduce_sum";
    case Op::kAllGather:
      return "all_gather";
    case Op::kBroadcast:
      return "broadcast";
    case Op::kBarrier:
      return "barrier";
    case Op::kError:
      return "error";
  }
  return "unknown";
}

std::string SocketCommunicator::Describe(const Header& h) {
  static_assert(sizeof(Header) == 24, "the wire format has no padding");
  const bool known =
      h.dtype < static_cast<uint16_t>(c10::ScalarType::NumOptions);
  return absl::StrCat(
      OpName(h.op), " #", h.seq, " (", h.bytes, " bytes of ",
      known ? c10::toString(static_cast<c10::ScalarType>(h.dtype)) : "?",
      h.op == static_cast<uint16_t>(Op::kBroadcast)
          ? absl::StrCat(", root ", h.arg)
          : "",
      ")");
}

absl::StatusOr<std::unique_ptr<SocketCommunicator>> SocketCommunicator::Create(
    int rank, int size, Rendezvous& rendezvous, Options options) {
  if (size < 1 || rank < 0 || rank >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank ", rank, " is not in a group of size ", size));
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "socket communicator timeout must be > 0");
  }
  std::unique_ptr<SocketCommunicator> comm(
      new SocketCommunicator(rank, size, options.timeout));
  comm->peers_.resize(rank == 0 ? size : 1);
  if (size == 1) return comm;  // nobody to meet
  if (rank == 0) {
    int port = 0;
    absl::StatusOr<Fd> listener =
        socket_io::Listen(options.bind_host, size, &port);
    if (!listener.ok()) return listener.status();
    std::string host = options.advertise_host;
    if (host.empty()) host = options.bind_host;
    if (host.empty() || host == "0.0.0.0" || host == "::") {
      host = LocalHostname();
    }
    const std::string address = socket_io::JoinHostPort(host, port);
    absl::StatusOr<std::string> shared = rendezvous.Share(0, address);
    if (!shared.ok()) return shared.status();
    if (absl::Status st = AcceptPeers(*comm, *listener); !st.ok()) return st;
    return comm;
  }
  absl::StatusOr<std::string> shared = rendezvous.Share(rank, "");
  if (!shared.ok()) return shared.status();
  if (absl::Status st = JoinRankZero(*comm, *shared, options); !st.ok()) {
    return st;
  }
  return comm;
}

absl::Status SocketCommunicator::AcceptPeers(SocketCommunicator& comm,
                                             const Fd& listener) {
  const absl::Time deadline = absl::Now() + comm.timeout_;
  for (int joined = 1; joined < comm.size_; ++joined) {
    absl::StatusOr<Fd> fd = socket_io::Accept(listener, deadline);
    if (absl::IsDeadlineExceeded(fd.status())) {
      return comm.Fail(absl::DeadlineExceededError(absl::StrCat(
          "rank 0: ", comm.size_ - joined, " rank(s) did not connect within ",
          absl::FormatDuration(comm.timeout_))));
    }
    if (!fd.ok()) return comm.Fail(fd.status());
    Header hello{};
    if (absl::Status st = socket_io::RecvAll(*fd, &hello, sizeof(hello),
                                             deadline, "a connecting rank");
        !st.ok()) {
      return comm.Fail(st);
    }
    const int peer = hello.arg;
    if (hello.magic != kMagic ||
        hello.op != static_cast<uint16_t>(Op::kHello)) {
      return comm.Fail(absl::FailedPreconditionError(
          "rank 0: a connection that is not a rank of this group"));
    }
    if (hello.bytes != static_cast<uint64_t>(comm.size_) || peer < 1 ||
        peer >= comm.size_ || comm.peers_[peer].valid()) {
      // Tell the stranger too, so it does not wait for an answer.
      comm.peers_[0] = *std::move(fd);
      return comm.Fail(absl::FailedPreconditionError(absl::StrCat(
          "rank 0 of a group of ", comm.size_, " was joined by rank ", peer,
          " of a group of ", hello.bytes,
          peer >= 1 && peer < comm.size_ ? " twice or with another size"
                                         : "")));
    }
    comm.peers_[peer] = *std::move(fd);
  }
  // Everyone is in: the others may start.
  Header ack{kMagic, static_cast<uint16_t>(Op::kHello), 0, 0,
             0,      static_cast<uint64_t>(comm.size_)};
  return comm.SendToPeers(ack, nullptr, 0, -1);
}

absl::Status SocketCommunicator::JoinRankZero(SocketCommunicator& comm,
                                              const std::string& address,
                                              const Options& options) {
  absl::StatusOr<std::pair<std::string, int>> host_port =
      socket_io::SplitHostPort(address);
  if (!host_port.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rank 0 shared a bad address: ", host_port.status().message()));
  }
  const absl::Time deadline = absl::Now() + options.timeout;
  absl::StatusOr<Fd> fd = socket_io::Connect(
      host_port->first, host_port->second, deadline, RankName(0));
  if (!fd.ok()) return fd.status();
  comm.peers_[0] = *std::move(fd);
  Header hello{kMagic,     static_cast<uint16_t>(Op::kHello), 0, 0,
               comm.rank_, static_cast<uint64_t>(comm.size_)};
  if (absl::Status st = comm.SendToRoot(hello, nullptr, 0); !st.ok()) {
    return st;
  }
  // The answer comes once every rank has joined.
  Header ack = hello;
  ack.arg = 0;
  return comm.RecvReply(ack, nullptr);
}

SocketCommunicator::Header SocketCommunicator::MakeHeader(
    Op op, const torch::Tensor& t, int32_t arg) {
  return Header{
      kMagic,
      static_cast<uint16_t>(op),
      static_cast<uint16_t>(t.defined() ? t.scalar_type() : torch::kByte),
      ++seq_,
      arg,
      t.defined() ? Bytes(t) : 0};
}

absl::Status SocketCommunicator::CheckUsable() const {
  if (broken_.ok()) return absl::OkStatus();
  return absl::Status(broken_.code(),
                      absl::StrCat("communicator of rank ", rank_,
                                   " is broken: ", broken_.message()));
}

absl::Status SocketCommunicator::Fail(absl::Status status) {
  if (broken_.ok()) broken_ = status;
  if (rank_ == 0) {
    // Best effort: tell every rank still connected why, so it fails now
    // instead of at its timeout.
    const std::string message(status.message());
    const Header error{kMagic,
                       static_cast<uint16_t>(Op::kError),
                       0,
                       seq_,
                       static_cast<int32_t>(status.code()),
                       std::min<uint64_t>(message.size(), kMaxErrorBytes)};
    const absl::Time deadline =
        absl::Now() + std::min(timeout_, absl::Seconds(5));
    for (Fd& fd : peers_) {
      if (!fd.valid()) continue;
      if (socket_io::SendAll(fd, &error, sizeof(error), deadline, "").ok()) {
        socket_io::SendAll(fd, message.data(), error.bytes, deadline, "")
            .IgnoreError();
      }
    }
  }
  // Closing tells the others this rank is gone.
  for (Fd& fd : peers_) fd.Close();
  return status;
}

absl::Status SocketCommunicator::GatherFromPeers(
    const Header& want, const std::vector<void*>& payloads) {
  std::vector<Header> headers(size_);
  std::vector<Inbound> inbound;
  for (int r = 1; r < size_; ++r) {
    inbound.push_back(
        Inbound{&peers_[r], RankName(r), &headers[r], sizeof(Header)});
  }
  if (absl::Status st =
          socket_io::RecvAllFromMany(inbound, absl::Now() + timeout_);
      !st.ok()) {
    return Fail(st);
  }
  inbound.clear();
  for (int r = 1; r < size_; ++r) {
    const Header& h = headers[r];
    if (h.magic != want.magic || h.op != want.op || h.dtype != want.dtype ||
        h.seq != want.seq || h.arg != want.arg || h.bytes != want.bytes) {
      return Fail(absl::FailedPreconditionError(
          absl::StrCat("collectives out of step: rank 0 called ",
                       Describe(want), ", rank ", r, " called ", Describe(h))));
    }
    if (r < static_cast<int>(payloads.size()) && payloads[r] != nullptr) {
      inbound.push_back(Inbound{&peers_[r], RankName(r), payloads[r],
                                static_cast<size_t>(want.bytes)});
    }
  }
  if (absl::Status st =
          socket_io::RecvAllFromMany(inbound, absl::Now() + timeout_);
      !st.ok()) {
    return Fail(st);
  }
  return absl::OkStatus();
}

absl::Status SocketCommunicator::SendToPeers(const Header& header,
                                             const void* data, size_t size,
                                             int skip) {
  for (int r = 1; r < size_; ++r) {
    if (r == skip) continue;
    const absl::Time deadline = absl::Now() + timeout_;
    absl::Status st = socket_io::SendAll(peers_[r], &header, sizeof(header),
                                         deadline, RankName(r));
    if (st.ok()) {
      st = socket_io::SendAll(peers_[r], data, size, deadline, RankName(r));
    }
    if (!st.ok()) return Fail(st);
  }
  return absl::OkStatus();
}

absl::Status SocketCommunicator::SendToRoot(const Header& header,
                                            const void* data, size_t size) {
  const absl::Time deadline = absl::Now() + timeout_;
  absl::Status st = socket_io::SendAll(peers_[0], &header, sizeof(header),
                                       deadline, RankName(0));
  if (st.ok()) {
    st = socket_io::SendAll(peers_[0], data, size, deadline, RankName(0));
  }
  if (st.ok()) return st;
  // Rank 0 may have hung up after saying why: prefer its reason.
  Header h{};
  if (socket_io::RecvAll(peers_[0], &h, sizeof(h),
                         absl::Now() + std::min(timeout_, absl::Seconds(1)),
                         RankName(0))
          .ok()) {
    if (absl::Status reason = ErrorFrom(h); !reason.ok()) return Fail(reason);
  }
  return Fail(st);
}

absl::Status SocketCommunicator::ErrorFrom(const Header& h) {
  if (h.magic != kMagic || h.op != static_cast<uint16_t>(Op::kError) ||
      h.bytes > kMaxErrorBytes) {
    return absl::OkStatus();
  }
  std::string message(h.bytes, '\0');
  socket_io::RecvAll(peers_[0], message.data(), message.size(),
                     absl::Now() + std::min(timeout_, absl::Seconds(5)),
                     RankName(0))
      .IgnoreError();
  const auto code = static_cast<absl::StatusCode>(h.arg);
  return absl::Status(
      code == absl::StatusCode::kOk ? absl::StatusCode::kInternal : code,
      absl::StrCat("rank 0 reports: ", message));
}

absl::Status SocketCommunicator::RecvReply(const Header& want, void* data) {
  Header h{};
  if (absl::Status st = socket_io::RecvAll(peers_[0], &h, sizeof(h),
                                           absl::Now() + timeout_, RankName(0));
      !st.ok()) {
    return Fail(st);
  }
  if (absl::Status reason = ErrorFrom(h); !reason.ok()) return Fail(reason);
  if (h.magic != want.magic || h.op != want.op || h.dtype != want.dtype ||
      h.seq != want.seq || h.arg != want.arg || h.bytes != want.bytes) {
    return Fail(absl::FailedPreconditionError(
        absl::StrCat("collectives out of step: rank ", rank_, " called ",
                     Describe(want), ", rank 0 answered ", Describe(h))));
  }
  if (data == nullptr) return absl::OkStatus();
  if (absl::Status st =
          socket_io::RecvAll(peers_[0], data, static_cast<size_t>(h.bytes),
                             absl::Now() + timeout_, RankName(0));
      !st.ok()) {
    return Fail(st);
  }
  return absl::OkStatus();
}

absl::Status SocketCommunicator::AllReduceSum(torch::Tensor& tensor) {
  if (absl::Status st = CheckUsable(); !st.ok()) return st;
  if (!tensor.defined()) return absl::InvalidArgumentError("undefined tensor");
  try {
    const torch::Tensor host = ToHost(tensor);
    const Header h = MakeHeader(Op::kAllReduceSum, host);
    if (size_ == 1) return absl::OkStatus();
    if (rank_ == 0) {
      std::vector<torch::Tensor> parts(size_);
      std::vector<void*> payloads(size_, nullptr);
      for (int r = 1; r < size_; ++r) {
        parts[r] = torch::empty_like(host);
        payloads[r] = parts[r].data_ptr();
      }
      if (absl::Status st = GatherFromPeers(h, payloads); !st.ok()) return st;
      // InProcessCommunicator's additions, in its order: the same bytes.
      torch::Tensor sum = host.clone();
      for (int r = 1; r < size_; ++r) sum.add_(parts[r]);
      if (absl::Status st = SendToPeers(h, sum.data_ptr(), Bytes(sum), -1);
          !st.ok()) {
        return st;
      }
      tensor.copy_(sum);
      return absl::OkStatus();
    }
    if (absl::Status st = SendToRoot(h, host.data_ptr(), Bytes(host));
        !st.ok()) {
      return st;
    }
    torch::Tensor sum = torch::empty_like(host);
    if (absl::Status st = RecvReply(h, sum.data_ptr()); !st.ok()) return st;
    tensor.copy_(sum);
    return absl::OkStatus();
  } catch (const c10::Error& e) {
    return Fail(absl::InternalError(e.what_without_backtrace()));
  }
}

absl::Status SocketCommunicator::AllGather(const torch::Tensor& input,
                                           torch::Tensor& output) {
  if (absl::Status st = CheckUsable(); !st.ok()) return st;
  if (!input.defined() || !output.defined()) {
    return absl::InvalidArgumentError("undefined tensor");
  }
  if (output.numel() != input.numel() * size_) {
    return absl::InvalidArgumentError(
        absl::StrCat("all_gather output has ", output.numel(),
                     " elements, want ", input.numel() * size_));
  }
  if (!output.is_contiguous()) {
    return absl::InvalidArgumentError("all_gather output is not contiguous");
  }
  try {
    const torch::Tensor host = ToHost(input).reshape({-1});
    const Header h = MakeHeader(Op::kAllGather, host);
    torch::Tensor gathered =
        torch::empty({size_, host.numel()}, host.options());
    Header reply = h;
    reply.bytes = Bytes(gathered);
    if (rank_ == 0) {
      gathered[0].copy_(host);
      std::vector<void*> payloads(size_, nullptr);
      for (int r = 1; r < size_; ++r) {
        payloads[r] = static_cast<char*>(gathered.data_ptr()) + r * h.bytes;
      }
      if (absl::Status st = GatherFromPeers(h, payloads); !st.ok()) return st;
      if (absl::Status st =
              SendToPeers(reply, gathered.data_ptr(), reply.bytes, -1);
          !st.ok()) {
        return st;
      }
    } else {
      if (absl::Status st = SendToRoot(h, host.data_ptr(), h.bytes); !st.ok()) {
        return st;
      }
      if (absl::Status st = RecvReply(reply, gathered.data_ptr()); !st.ok()) {
        return st;
      }
    }
    output.view({size_, host.numel()}).copy_(gathered);
    return absl::OkStatus();
  } catch (const c10::Error& e) {
    return Fail(absl::InternalError(e.what_without_backtrace()));
  }
}

absl::Status SocketCommunicator::Broadcast(torch::Tensor& tensor, int root) {
  if (absl::Status st = CheckUsable(); !st.ok()) return st;
  if (root < 0 || root >= size_) {
    return absl::InvalidArgumentError(absl::StrCat("bad root ", root));
  }
  if (!tensor.defined()) return absl::InvalidArgumentError("undefined tensor");
  try {
    const torch::Tensor host = ToHost(tensor);
    const Header h = MakeHeader(Op::kBroadcast, host, root);
    if (size_ == 1) return absl::OkStatus();
    if (rank_ == 0) {
      // Rank 0 relays a root elsewhere; the root needs no answer.
      torch::Tensor value = root == 0 ? host : torch::empty_like(host);
      std::vector<void*> payloads(size_, nullptr);
      if (root != 0) payloads[root] = value.data_ptr();
      if (absl::Status st = GatherFromPeers(h, payloads); !st.ok()) return st;
      if (absl::Status st = SendToPeers(h, value.data_ptr(), h.bytes, root);
          !st.ok()) {
        return st;
      }
      if (root != 0) tensor.copy_(value);
      return absl::OkStatus();
    }
    if (rank_ == root) return SendToRoot(h, host.data_ptr(), h.bytes);
    if (absl::Status st = SendToRoot(h, nullptr, 0); !st.ok()) return st;
    torch::Tensor value = torch::empty_like(host);
    if (absl::Status st = RecvReply(h, value.data_ptr()); !st.ok()) return st;
    tensor.copy_(value);
    return absl::OkStatus();
  } catch (const c10::Error& e) {
    return Fail(absl::InternalError(e.what_without_backtrace()));
  }
}

absl::Status SocketCommunicator::Barrier() {
  if (absl::Status st = CheckUsable(); !st.ok()) return st;
  const Header h = MakeHeader(Op::kBarrier, torch::Tensor());
  if (size_ == 1) return absl::OkStatus();
  if (rank_ == 0) {
    if (absl::Status st = GatherFromPeers(h, {}); !st.ok()) return st;
    return SendToPeers(h, nullptr, 0, -1);
  }
  if (absl::Status st = SendToRoot(h, nullptr, 0); !st.ok()) return st;
  return RecvReply(h, nullptr);
}

bool SocketCommunicator::WaitForHangup(const std::atomic<bool>& stop,
                                       absl::Duration tick) const {
  std::vector<pollfd> fds;
  for (const socket_io::Fd& fd : peers_) {
    if (fd.valid()) fds.push_back(pollfd{fd.get(), POLLRDHUP, 0});
  }
  if (fds.empty()) return false;
  const int tick_ms =
      static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(tick)));
  while (!stop.load()) {
    const int n = ::poll(fds.data(), fds.size(), tick_ms);
    if (n < 0 && errno != EINTR) return true;
    for (const pollfd& p : fds) {
      if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return true;
    }
  }
  return false;
}

void SocketCommunicator::Abort() {
  for (const socket_io::Fd& fd : peers_) {
    if (fd.valid()) ::shutdown(fd.get(), SHUT_RDWR);
  }
}

}  // namespace reelfarm::pipeline::comm
