#ifndef REELFARM_SWEEP_YAML_SOURCE_H_
#define REELFARM_SWEEP_YAML_SOURCE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "yaml-cpp/yaml.h"

namespace reelfarm::config {

// One key/value pair of a YAML map, with the key's node kept so errors about
// the key (unknown, duplicate) point at the key itself.
struct MapEntry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// Turns yaml-cpp marks (0-based) into the "file:line:column: " prefixes
// (1-based) every config error and warning starts with.
class YamlSource {
 public:
  explicit YamlSource(std::string file_name)
      : file_name_(std::move(file_name)) {}

  const std::string& file_name() const { return file_name_; }

  // "file:line:col"; a null mark (nodes yaml-cpp made up) reads as 1:1.
  std::string Where(const YAML::Mark& mark) const;
  std::string Where(const YAML::Node& node) const;
  // The value's position, or the key's when the value is empty (`steps:`
  // has its null value's mark on the next line).
  std::string Where(const MapEntry& entry) const;

  // InvalidArgument "file:line:col: field: message" (no "field: " when
  // `field` is empty).
  absl::Status Error(const YAML::Node& node, absl::string_view field,
                     absl::string_view message) const;
  absl::Status Error(const MapEntry& entry, absl::string_view message) const;
  absl::Status ErrorAt(
      absl::string_view where, absl::string_view field,
      absl::string_view message,
      absl::StatusCode code = absl::StatusCode::kInvalidArgument) const;

  // The same text as Error, for SweepSpec.warnings.
  std::string Warning(const YAML::Node& node, absl::string_view field,
                      absl::string_view message) const;

 private:
  std::string file_name_;
};

// Parses one YAML document; syntax errors become located InvalidArgument.
// An empty document or a stream of several documents is an error too.
absl::StatusOr<YAML::Node> ParseYamlDocument(absl::string_view text,
                                             const YamlSource& source);

// The pairs of a map in document order. Keys must be plain scalars and
// unique: yaml-cpp keeps duplicates silently, and a repeated `seed:` that
// quietly wins would be a nasty surprise. `what` names the map in errors.
absl::StatusOr<std::vector<MapEntry>> MapEntries(const YAML::Node& map,
                                                 const YamlSource& source,
                                                 absl::string_view what);

}  // namespace reelfarm::config

#endif  // REELFARM_SWEEP_YAML_SOURCE_H_
