#ifndef REELFARM_CLI_COMMANDS_H_
#define REELFARM_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace reelfarm::cli {

// Each subcommand takes its arguments (after the subcommand's name) and
// returns the process exit code: 0 done, 2 bad input, 1 failure.
int RunCommand(const std::vector<std::string>& args);
int CoordinatorCommand(const std::vector<std::string>& args);
int NodeCommand(const std::vector<std::string>& args);
int SubmitCommand(const std::vector<std::string>& args);
int StatusCommand(const std::vector<std::string>& args);
int WatchCommand(const std::vector<std::string>& args);
int CancelCommand(const std::vector<std::string>& args);
int ResumeCommand(const std::vector<std::string>& args);
int MakeTinyModelCommand(const std::vector<std::string>& args);
int SlurmCommand(const std::vector<std::string>& args);

}  // namespace reelfarm::cli

#endif  // REELFARM_CLI_COMMANDS_H_
