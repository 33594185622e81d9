#include "sweep/load_context.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "common/safe_path.h"

namespace reelfarm::config {

uint64_t LoadContext::DrawSeed() {
  uint64_t seed = 0;
  if (options.draw_seed) {
    seed = options.draw_seed();
  } else {
    std::random_device device;
    // random_device yields 32 bits at a time.
    seed = (static_cast<uint64_t>(device()) << 32) | device();
  }
  spec->add_drawn_seeds(seed);
  return seed;
}

absl::Status ApplyRenderer(const std::string& configured,
                           const std::string& where, LoadContext& ctx) {
  const bool from_flag = !ctx.options.renderer.empty();
  const std::string& name = from_flag ? ctx.options.renderer : configured;
  const std::string chosen =
      name.empty() ? std::string(kAnimateDiffRenderer) : name;
  if (chosen != kAnimateDiffRenderer && chosen != kTestPatternRenderer) {
    return ctx.source.ErrorAt(
        where, "renderer",
        absl::StrCat("unknown renderer '", chosen, "'",
                     from_flag ? " (from the command line)" : "",
                     "; expected 'animatediff' or 'test-pattern'"));
  }
  ctx.spec->mutable_renderer()->set_name(chosen);
  return absl::OkStatus();
}

void ApplyOutputDir(const std::string& configured, LoadContext& ctx) {
  std::string dir = ctx.options.output_dir;
  if (dir.empty()) dir = configured;
  // The name comes from the config or the file's name: one safe folder
  // under outputs/, whatever it holds.
  if (dir.empty()) {
    dir = absl::StrCat(
        "outputs/",
        SafePathComponent(ctx.spec->name(), kMaxComponentBytes, "sweep"));
  }
  ctx.spec->set_output_dir(AbsolutePath(ctx.cwd, dir));
}

std::string AbsolutePath(const std::filesystem::path& base,
                         const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = base / p;
  return p.lexically_normal().string();
}

}  // namespace reelfarm::config
