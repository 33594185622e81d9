#ifndef REELFARM_TESTS_TOOLS_REQUIRED_TOOL_H_
#define REELFARM_TESTS_TOOLS_REQUIRED_TOOL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reelfarm::testing_tools {

// The absolute path of `program` (REELFARM_TOOL_<PROGRAM> when set, else
// PATH), or an error that says which variable skips the tests needing it.
absl::StatusOr<std::string> FindTool(const std::string& program,
                                     const std::string& skip_env);

// True when `skip_env` is set to a non-empty value other than "0".
bool SkipRequested(const std::string& skip_env);

// Runs argv (argv[0] absolute) and returns its stdout; an error with its
// output when it exits non-zero.
absl::StatusOr<std::string> RunTool(const std::vector<std::string>& argv);

}  // namespace reelfarm::testing_tools

// In a TEST body: binds `var` to the tool's path; without the tool the test
// FAILS, unless `skip_env` is set, when it is skipped.
#define REELFARM_REQUIRE_TOOL(var, program, skip_env)           \
  std::string var;                                              \
  do {                                                          \
    absl::StatusOr<std::string> found_ =                        \
        ::reelfarm::testing_tools::FindTool(program, skip_env); \
    if (!found_.ok()) {                                         \
      if (::reelfarm::testing_tools::SkipRequested(skip_env)) { \
        GTEST_SKIP() << found_.status().message();              \
      }                                                         \
      FAIL() << found_.status().message();                      \
    }                                                           \
    var = *found_;                                              \
  } while (0)

#endif  // REELFARM_TESTS_TOOLS_REQUIRED_TOOL_H_
