#ifndef REELFARM_CLI_FLAGS_H_
#define REELFARM_CLI_FLAGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reelfarm::cli {

// A subcommand's flags: --name value, --name=value, and --flag for booleans.
// Unknown flags and bad values are errors that name the flag.
class FlagSet {
 public:
  FlagSet(std::string usage, std::string summary)
      : usage_(std::move(usage)), summary_(std::move(summary)) {}

  void String(const std::string& name, std::string* target,
              const std::string& help);
  void Uint(const std::string& name, uint32_t* target, const std::string& help);
  void Double(const std::string& name, double* target, const std::string& help);
  void Bool(const std::string& name, bool* target, const std::string& help);
  // Repeatable: each use appends its value.
  void StringList(const std::string& name, std::vector<std::string>* target,
                  const std::string& help);

  // Parses args (without the program and subcommand names) and returns the
  // positional arguments. `help_requested()` is set by --help / -h.
  absl::StatusOr<std::vector<std::string>> Parse(
      const std::vector<std::string>& args);
  bool help_requested() const { return help_; }
  std::string Help() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    bool is_bool = false;
    std::string default_text;
    std::function<bool(const std::string&)> set;
  };
  const Flag* Find(const std::string& name) const;

  std::string usage_;
  std::string summary_;
  std::vector<Flag> flags_;
  bool help_ = false;
};

}  // namespace reelfarm::cli

#endif  // REELFARM_CLI_FLAGS_H_
