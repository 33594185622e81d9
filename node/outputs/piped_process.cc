#include "node/outputs/piped_process.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

extern char** environ;

namespace reelfarm {
namespace {

constexpr size_t kMaxStderr = 64 * 1024;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string Tail(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  if (t.size() > 2000) t = "..." + t.substr(t.size() - 2000);
  return t;
}

}  // namespace

absl::Status RunWithInput(const std::vector<std::string>& argv,
                          const std::vector<absl::string_view>& input) {
  if (argv.empty()) return absl::InvalidArgumentError("no program to run");
  const std::string& program = argv[0];
  // stdin is a socket so a write after the child died fails with EPIPE
  // (MSG_NOSIGNAL) instead of raising SIGPIPE in this process.
  int in_pair[2], err_pipe[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
    return ErrnoToStatus(errno, "socketpair");
  }
  Fd in_parent(in_pair[0]), in_child(in_pair[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
  Fd err_parent(err_pipe[0]), err_child(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_child.get(), 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err_child.get(), 2);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawn_error = ::posix_spawn(&pid, program.c_str(), &actions,
                                        nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    return ErrnoToStatus(spawn_error, absl::StrCat("start ", program));
  }
  in_child.Close();
  err_child.Close();

  // Feed stdin and drain stderr together: a child blocked on a full stderr
  // pipe would otherwise never read the rest of its input.
  std::string errors;
  size_t chunk = 0, offset = 0;
  while (chunk < input.size() && input[chunk].empty()) ++chunk;
  if (chunk == input.size()) in_parent.Close();
  bool err_open = true;
  std::string write_error;
  while (err_open || in_parent.get() >= 0) {
    // fds[0]: stderr (fd -1, ignored by poll, once closed); fds[1]: stdin.
    pollfd fds[2] = {{err_open ? err_parent.get() : -1, POLLIN, 0},
                     {in_parent.get(), POLLOUT, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      write_error = absl::StrCat("poll: ", std::strerror(errno));
      break;
    }
    if (err_open && fds[0].revents != 0) {
      char buf[4096];
      const ssize_t got = ::read(err_parent.get(), buf, sizeof(buf));
      if (got > 0) {
        errors.append(buf, static_cast<size_t>(got));
        if (errors.size() > kMaxStderr) {
          errors.erase(0, errors.size() - kMaxStderr);
        }
      } else if (got == 0 || errno != EINTR) {
        err_open = false;
      }
    }
    if (in_parent.get() >= 0 && fds[1].revents != 0) {
      const absl::string_view part = input[chunk].substr(offset);
      const ssize_t sent = ::send(in_parent.get(), part.data(), part.size(),
                                  MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent >= 0) {
        offset += static_cast<size_t>(sent);
        if (offset == input[chunk].size()) {
          offset = 0;
          ++chunk;
          while (chunk < input.size() && input[chunk].empty()) ++chunk;
        }
        if (chunk == input.size()) in_parent.Close();  // EOF for the child
      } else if (errno != EAGAIN && errno != EINTR) {
        // The child stopped reading (it failed or exited): its exit status
        // and stderr say why.
        write_error = absl::StrCat("writing its input: ", std::strerror(errno));
        in_parent.Close();
      }
    }
  }
  in_parent.Close();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoToStatus(errno, "waitpid");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && write_error.empty()) {
    return absl::OkStatus();
  }
  std::string how = WIFEXITED(status) ? absl::StrCat("exited with status ",
                                                     WEXITSTATUS(status))
                    : WIFSIGNALED(status)
                        ? absl::StrCat("killed by signal ", WTERMSIG(status))
                        : "ended abnormally";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) how = write_error;
  const std::string tail = Tail(errors);
  return absl::InternalError(
      absl::StrCat(program, " ", how, tail.empty() ? "" : ": ", tail));
}

}  // namespace reelfarm
