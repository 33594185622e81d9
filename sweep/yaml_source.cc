#include "sweep/yaml_source.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace reelfarm::config {

std::string YamlSource::Where(const YAML::Mark& mark) const {
  if (mark.is_null()) return absl::StrCat(file_name_, ":1:1");
  return absl::StrCat(file_name_, ":", mark.line + 1, ":", mark.column + 1);
}

std::string YamlSource::Where(const YAML::Node& node) const {
  return Where(node.IsDefined() ? node.Mark() : YAML::Mark::null_mark());
}

std::string YamlSource::Where(const MapEntry& entry) const {
  if (!entry.value.IsDefined() || entry.value.IsNull() ||
      entry.value.Mark().is_null()) {
    return Where(entry.key_node);
  }
  return Where(entry.value);
}

absl::Status YamlSource::ErrorAt(absl::string_view where,
                                 absl::string_view field,
                                 absl::string_view message,
                                 absl::StatusCode code) const {
  std::string text = field.empty()
                         ? absl::StrCat(where, ": ", message)
                         : absl::StrCat(where, ": ", field, ": ", message);
  return absl::Status(code, text);
}

absl::Status YamlSource::Error(const YAML::Node& node, absl::string_view field,
                               absl::string_view message) const {
  return ErrorAt(Where(node), field, message);
}

absl::Status YamlSource::Error(const MapEntry& entry,
                               absl::string_view message) const {
  return ErrorAt(Where(entry), entry.key, message);
}

std::string YamlSource::Warning(const YAML::Node& node, absl::string_view field,
                                absl::string_view message) const {
  return std::string(Error(node, field, message).message());
}

absl::StatusOr<YAML::Node> ParseYamlDocument(absl::string_view text,
                                             const YamlSource& source) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    // yaml-cpp's own message; the mark is where the parser gave up.
    return source.ErrorAt(source.Where(e.mark), "",
                          absl::StrCat("YAML syntax error: ", e.msg));
  }
  if (docs.empty() || docs.front().IsNull()) {
    return source.ErrorAt(source.Where(YAML::Mark::null_mark()), "",
                          "the config is empty");
  }
  if (docs.size() > 1) {
    return source.Error(docs[1], "",
                        "the config holds several YAML documents; expected "
                        "one (remove the '---' separator)");
  }
  return docs.front();
}

absl::StatusOr<std::vector<MapEntry>> MapEntries(const YAML::Node& map,
                                                 const YamlSource& source,
                                                 absl::string_view what) {
  std::vector<MapEntry> entries;
  std::map<std::string, YAML::Node> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node& key = it->first;
    if (!key.IsScalar()) {
      return source.Error(key, what, "keys must be plain names");
    }
    auto [prev, inserted] = seen.emplace(key.Scalar(), key);
    if (!inserted) {
      return source.Error(
          key, key.Scalar(),
          absl::StrCat("duplicate key in ", what, " (first set at ",
                       source.Where(prev->second), ")"));
    }
    entries.push_back(MapEntry{key.Scalar(), key, it->second});
  }
  return entries;
}

}  // namespace reelfarm::config
