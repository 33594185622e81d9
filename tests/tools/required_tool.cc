#include "tests/tools/required_tool.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/find_program.h"

namespace reelfarm::testing_tools {

absl::StatusOr<std::string> FindTool(const std::string& program,
                                     const std::string& skip_env) {
  std::string override_env = "REELFARM_TOOL_";
  for (char c : program) {
    override_env += std::isalnum(static_cast<unsigned char>(c))
                        ? static_cast<char>(std::toupper(c))
                        : '_';
  }
  absl::StatusOr<std::string> found = FindProgram(program, override_env);
  if (found.ok()) return found;
  return absl::NotFoundError(
      absl::StrCat(found.status().message(), "; this test needs it (set ",
                   skip_env, "=1 to skip the tests that do)"));
}

bool SkipRequested(const std::string& skip_env) {
  const char* v = std::getenv(skip_env.c_str());
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

absl::StatusOr<std::string> RunTool(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe(fds) != 0) return absl::InternalError("pipe failed");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> args;
    for (const std::string& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;  // binary-safe: decoded frames come back this way
  char buf[65536];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) != 0;) {
    if (n > 0)
      out.append(buf, static_cast<size_t>(n));
    else if (errno != EINTR)
      break;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  if (code != 0) {
    return absl::InternalError(
        absl::StrCat(absl::StrJoin(argv, " "), " exited ", code, ": ", out));
  }
  return out;
}

}  // namespace reelfarm::testing_tools
