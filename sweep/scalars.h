#ifndef REELFARM_SWEEP_SCALARS_H_
#define REELFARM_SWEEP_SCALARS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sweep/yaml_source.h"
#include "yaml-cpp/yaml.h"

namespace reelfarm::config {

// Integers from a config: wide enough for any int64 and any uint64, so
// "-1" and "18446744073709551615" both parse and range checks stay exact.
using WideInt = __int128;

std::string WideIntToString(WideInt v);

// How a node reads in "got ..." messages: a plain scalar as written, a
// quoted one in quotes ("a string \"25\""), else "a list", "a map",
// "nothing".
std::string Describe(const YAML::Node& node);

// An unquoted, untagged scalar: the only kind that may be a number. A
// quoted "25" stays a string, as OmegaConf (and so AnimateDiff) reads it.
bool IsPlainScalar(const YAML::Node& node);

// A decimal integer (optional sign) from a plain scalar; nullopt otherwise.
std::optional<WideInt> ParseInteger(const YAML::Node& node);

// A number from a plain scalar (integers included); nullopt otherwise.
// Non-finite values parse; callers reject them.
std::optional<double> ParseReal(const YAML::Node& node);

// Typed reads that fail with a located "field: must be ..., got ..." error.
absl::StatusOr<std::string> ReadText(const YAML::Node& node,
                                     absl::string_view field,
                                     const YamlSource& source);
absl::StatusOr<bool> ReadBool(const YAML::Node& node, absl::string_view field,
                              const YamlSource& source);
absl::StatusOr<double> ReadFiniteReal(const YAML::Node& node,
                                      absl::string_view field,
                                      const YamlSource& source);
// 1 .. 2^32-1.
absl::StatusOr<uint32_t> ReadPositiveUint32(const YAML::Node& node,
                                            absl::string_view field,
                                            const YamlSource& source);

}  // namespace reelfarm::config

#endif  // REELFARM_SWEEP_SCALARS_H_
