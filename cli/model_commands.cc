// `reelfarm make-tiny-model`: a small random model for demos and tests.

#include <cstdio>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/follow.h"
#include "common/errors.h"
#include "node/renderers/tiny_model.h"

namespace reelfarm::cli {

int MakeTinyModelCommand(const std::vector<std::string>& args) {
  FlagSet flags("reelfarm make-tiny-model DIR [flags]",
                "Writes a small random AnimateDiff model in diffusers' layout "
                "into DIR:\na pipeline folder (pretrained_model_path) with a "
                "MotionAdapter in\nDIR/motion_adapter (motion_module). It "
                "renders noise, quickly, anywhere.");
  uint32_t seed = 1;
  flags.Uint("seed", &seed, "weights seed");
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) return Fail("make-tiny-model", positional.status());
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return kExitOk;
  }
  if (positional->size() != 1) {
    return Fail("make-tiny-model",
                absl::InvalidArgumentError("expected one folder (see --help)"));
  }
  if (absl::Status st = WriteTinyModel(positional->front(), seed); !st.ok()) {
    return Fail("make-tiny-model", st);
  }
  std::printf("pretrained_model_path: %s\nmotion_module: %s/motion_adapter\n",
              positional->front().c_str(), positional->front().c_str());
  return kExitOk;
}

}  // namespace reelfarm::cli
