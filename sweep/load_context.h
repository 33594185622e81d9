#ifndef REELFARM_SWEEP_LOAD_CONTEXT_H_
#define REELFARM_SWEEP_LOAD_CONTEXT_H_

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/strings/string_view.h"
#include "sweep/sweep_loader.h"
#include "sweep/yaml_source.h"
#include "reelfarm/v1/sweep.pb.h"

namespace reelfarm::config {

inline constexpr absl::string_view kAnimateDiffRenderer = "animatediff";
inline constexpr absl::string_view kTestPatternRenderer = "test-pattern";

// A frame dimension's key, the animate.py flag that fills it when the
// config does not, and animate.py's default when neither does.
struct FrameDimension {
  absl::string_view key;
  uint32_t flag;
  uint32_t builtin;
  absl::string_view flag_name;
};
inline std::array<FrameDimension, 3> FrameDimensions(const LoadOptions& o) {
  return {{{"W", o.width, 512, "--W"},
           {"H", o.height, 512, "--H"},
           {"L", o.frames, 16, "--L"}}};
}

// What the format readers share while turning one document into a spec.
struct LoadContext {
  LoadContext(std::string file_name, const LoadOptions& opts,
              v1::SweepSpec* out)
      : source(std::move(file_name)), options(opts), spec(out) {}

  YamlSource source;
  const LoadOptions& options;
  // Relative model paths in the config resolve against this folder: the cwd
  // for AnimateDiff's forms (as animate.py), the config's folder for
  // reelfarm's.
  std::filesystem::path model_base_dir;
  // The working directory: flags, output folders and AnimateDiff's paths
  // resolve against it.
  std::filesystem::path cwd;
  v1::SweepSpec* spec;  // warnings and drawn seeds are appended here

  bool animatediff_renderer() const {
    return spec->renderer().name() == kAnimateDiffRenderer;
  }

  // Draws a seed for -1 (options.draw_seed, else std::random_device) and
  // records it in spec->drawn_seeds.
  uint64_t DrawSeed();

  void Warn(const YAML::Node& node, absl::string_view field,
            absl::string_view message) {
    spec->add_warnings(source.Warning(node, field, message));
  }
};

// Sets spec->renderer's name from options.renderer when given (it wins over
// the config), else `configured`. `where` locates errors.
absl::Status ApplyRenderer(const std::string& configured,
                           const std::string& where, LoadContext& ctx);

// Sets spec->output_dir (absolute, against the cwd): options.output_dir,
// else `configured`, else "outputs/<spec name>".
void ApplyOutputDir(const std::string& configured, LoadContext& ctx);

// `path` made absolute against `base` and normalized.
std::string AbsolutePath(const std::filesystem::path& base,
                         const std::string& path);

}  // namespace reelfarm::config

#endif  // REELFARM_SWEEP_LOAD_CONTEXT_H_
