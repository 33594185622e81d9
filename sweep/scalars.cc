#include "sweep/scalars.h"

#include <cmath>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace reelfarm::config {

std::string WideIntToString(WideInt v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  // Digits of the magnitude, built from the back; unsigned avoids overflow.
  unsigned __int128 m = negative ? -static_cast<unsigned __int128>(v)
                                 : static_cast<unsigned __int128>(v);
  std::string digits;
  while (m > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + m % 10));
    m /= 10;
  }
  return negative ? "-" + digits : digits;
}

std::string Describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  std::string text = node.Scalar();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  if (IsPlainScalar(node)) return text;
  return absl::StrCat("a string \"", text, "\"");
}

bool IsPlainScalar(const YAML::Node& node) {
  return node.IsDefined() && node.IsScalar() && node.Tag() == "?";
}

std::optional<WideInt> ParseInteger(const YAML::Node& node) {
  if (!IsPlainScalar(node)) return std::nullopt;
  const std::string& text = node.Scalar();
  int64_t signed_value = 0;
  if (absl::SimpleAtoi(text, &signed_value)) return WideInt{signed_value};
  uint64_t unsigned_value = 0;
  if (absl::SimpleAtoi(text, &unsigned_value)) return WideInt{unsigned_value};
  return std::nullopt;
}

std::optional<double> ParseReal(const YAML::Node& node) {
  if (!IsPlainScalar(node)) return std::nullopt;
  double value = 0;
  if (!absl::SimpleAtod(node.Scalar(), &value)) return std::nullopt;
  return value;
}

absl::StatusOr<std::string> ReadText(const YAML::Node& node,
                                     absl::string_view field,
                                     const YamlSource& source) {
  if (!node.IsDefined() || !node.IsScalar()) {
    return source.Error(node, field,
                        absl::StrCat("must be a string, got ", Describe(node)));
  }
  return node.Scalar();
}

absl::StatusOr<bool> ReadBool(const YAML::Node& node, absl::string_view field,
                              const YamlSource& source) {
  if (IsPlainScalar(node)) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  return source.Error(
      node, field, absl::StrCat("must be true or false, got ", Describe(node)));
}

absl::StatusOr<double> ReadFiniteReal(const YAML::Node& node,
                                      absl::string_view field,
                                      const YamlSource& source) {
  std::optional<double> value = ParseReal(node);
  if (!value || !std::isfinite(*value)) {
    return source.Error(
        node, field,
        absl::StrCat("must be a finite number, got ", Describe(node)));
  }
  return *value;
}

absl::StatusOr<uint32_t> ReadPositiveUint32(const YAML::Node& node,
                                            absl::string_view field,
                                            const YamlSource& source) {
  std::optional<WideInt> value = ParseInteger(node);
  if (!value || *value < 1 || *value > std::numeric_limits<uint32_t>::max()) {
    return source.Error(
        node, field,
        absl::StrCat("must be a positive integer (at most 4294967295), got ",
                     Describe(node)));
  }
  return static_cast<uint32_t>(*value);
}

}  // namespace reelfarm::config
