#include "node/renderer.h"

#include "absl/strings/str_cat.h"
#include "node/test_pattern_renderer.h"

namespace reelfarm {

absl::StatusOr<std::unique_ptr<Renderer>> MakeRenderer(
    const v1::RendererOptions& options, const v1::Device& /*device*/) {
  if (options.name() == "test-pattern") {
    return std::make_unique<TestPatternRenderer>(
        options.test_pattern_ms_per_job());
  }
  if (options.name() == "animatediff" || options.name().empty()) {
    return absl::UnimplementedError(
        "the AnimateDiff renderer is not part of this build yet; use "
        "'renderer: test-pattern'");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown renderer '", options.name(), "'"));
}

}  // namespace reelfarm
