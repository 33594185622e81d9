#include "node/renderer.h"

#include "absl/strings/str_cat.h"
#include "node/animatediff_renderer.h"
#include "node/test_pattern_renderer.h"

namespace reelfarm {

absl::StatusOr<std::unique_ptr<Renderer>> MakeRenderer(
    const v1::RendererOptions& options, const v1::Device& device,
    int cpu_threads) {
  if (options.name() == "test-pattern") {
    return std::make_unique<TestPatternRenderer>(
        options.test_pattern_ms_per_job());
  }
  if (options.name() == "animatediff" || options.name().empty()) {
    return std::make_unique<AnimateDiffRenderer>(device, cpu_threads);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown renderer '", options.name(), "'"));
}

}  // namespace reelfarm
