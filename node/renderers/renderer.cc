#include "node/renderers/renderer.h"

#include "absl/strings/str_cat.h"
#include "node/renderers/animatediff_renderer.h"
#include "node/renderers/test_pattern_renderer.h"

namespace reelfarm {

absl::StatusOr<std::unique_ptr<Renderer>> MakeRenderer(
    const v1::RendererOptions& options, const RenderEnvironment& environment) {
  if (options.name() == "test-pattern") {
    return std::make_unique<TestPatternRenderer>(
        options.test_pattern_ms_per_job(), options.test_pattern_load_ms(),
        environment.devices.size());
  }
  if (options.name() == "animatediff" || options.name().empty()) {
    return std::make_unique<AnimateDiffRenderer>(environment);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown renderer '", options.name(), "'"));
}

}  // namespace reelfarm
