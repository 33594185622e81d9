#include "sweep/sweep_loader.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "sweep/sweep_expander.h"
#include "sweep/animatediff_format.h"
#include "sweep/load_context.h"
#include "sweep/reelfarm_format.h"
#include "sweep/scalars.h"
#include "sweep/suggest.h"
#include "sweep/yaml_source.h"

namespace reelfarm::config {
namespace {

enum class Form { kAnimateDiffList, kAnimateDiffMap, kReelfarm };

// The form is read off the document's shape (FORMAT.md, "Detection"):
//   a list                               -> AnimateDiff, current layout;
//   a map with any of reelfarm's keys    -> reelfarm's form;
//   a map whose values include an entry  -> AnimateDiff v1/v2 layout;
//     (a map with AnimateDiff entry keys)
//   any other map                        -> reelfarm's form, whose
//                                           unknown-key errors then suggest
//                                           the key that was meant.
absl::StatusOr<Form> DetectForm(const YAML::Node& root, const YamlSource& src) {
  if (root.IsSequence()) return Form::kAnimateDiffList;
  if (!root.IsMap()) {
    return src.Error(root, "",
                     absl::StrCat("expected a list of AnimateDiff entries or "
                                  "a map of settings, got ",
                                  Describe(root)));
  }
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it->first.IsScalar() && IsReelfarmTopLevelKey(it->first.Scalar())) {
      return Form::kReelfarm;
    }
  }
  if (LooksLikeAnimateDiffMap(root)) return Form::kAnimateDiffMap;
  return Form::kReelfarm;
}

// A map read as AnimateDiff's because no key is exactly one of reelfarm's
// may be a reelfarm config with a misspelt key ("gird:"); say so under the
// error, whose first line stays the located one.
absl::Status AddFormHint(const YAML::Node& root, const absl::Status& error) {
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (key.size() < 3) continue;
    for (absl::string_view reelfarm_key : ReelfarmTopLevelKeys()) {
      if (EditDistance(key, reelfarm_key) <= 2 && key != reelfarm_key) {
        return absl::Status(error.code(),
                            absl::StrCat(error.message(),
                                         "\n  note: read as an AnimateDiff "
                                         "config; did you mean reelfarm's '",
                                         reelfarm_key, "' for '", key, "'?"));
      }
    }
  }
  return error;
}

absl::StatusOr<v1::SweepSpec> Parse(absl::string_view yaml,
                                    const std::string& file_name,
                                    const LoadOptions& options) {
  v1::SweepSpec spec;
  LoadContext ctx(file_name, options, &spec);
  absl::StatusOr<YAML::Node> root = ParseYamlDocument(yaml, ctx.source);
  if (!root.ok()) return root.status();

  std::error_code ec;
  const std::filesystem::path cwd = std::filesystem::current_path(ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the current directory: ", ec.message()));
  }
  ctx.cwd = cwd;
  const std::string source_path = AbsolutePath(cwd, file_name);
  spec.set_source_path(source_path);
  std::string stem = std::filesystem::path(file_name).stem().string();
  spec.set_name(stem.empty() ? "sweep" : stem);

  absl::StatusOr<Form> form = DetectForm(*root, ctx.source);
  if (!form.ok()) return form.status();
  absl::Status st;
  if (*form == Form::kReelfarm) {
    ctx.model_base_dir = std::filesystem::path(source_path).parent_path();
    st = ReadReelfarmConfig(*root, ctx);
  } else {
    // animate.py opens model paths relative to where it runs.
    ctx.model_base_dir = cwd;
    st = ReadAnimateDiffConfig(*root, ctx);
    if (!st.ok() && *form == Form::kAnimateDiffMap) {
      st = AddFormHint(*root, st);
    }
  }
  if (!st.ok()) return st;

  // The expander is the final judge of a spec (known fields, equal zip
  // lengths, values that fit); the readers checked the same with better
  // locations, so this only fails on a bug or an overflowing job count.
  absl::StatusOr<SweepExpander> expander = SweepExpander::Create(spec);
  if (!expander.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        ctx.source.Where(*root), ": ", expander.status().message()));
  }
  return spec;
}

}  // namespace

absl::StatusOr<v1::SweepSpec> ParseSweepText(std::string_view yaml,
                                             const std::string& file_name,
                                             const LoadOptions& options) {
  YamlSource source(file_name);
  try {
    return Parse(absl::string_view(yaml.data(), yaml.size()), file_name,
                 options);
  } catch (const YAML::Exception& e) {
    // The readers avoid throwing accessors; this is a safety net.
    return source.ErrorAt(source.Where(e.mark), "",
                          absl::StrCat("YAML error: ", e.msg));
  }
}

absl::StatusOr<v1::SweepSpec> LoadSweepFile(const std::string& path,
                                            const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  // A folder opens as a stream on Linux and reads as empty; say what it is.
  if (!in || std::filesystem::is_directory(path, ec)) {
    const int err = in ? EISDIR : errno;
    YamlSource source(path);
    return source.ErrorAt(
        source.Where(YAML::Mark()), "",
        absl::StrCat("cannot read the config: ", std::strerror(err)),
        absl::StatusCode::kNotFound);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseSweepText(text.str(), path, options);
}

}  // namespace reelfarm::config
