#include "sweep/suggest.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reelfarm::config {

size_t EditDistance(absl::string_view a, absl::string_view b) {
  // One row of the DP table is enough.
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> ClosestMatch(
    absl::string_view word, const std::vector<absl::string_view>& candidates) {
  const std::string lower_word = absl::AsciiStrToLower(word);
  const size_t limit = std::max<size_t>(2, lower_word.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (absl::string_view candidate : candidates) {
    const std::string lower = absl::AsciiStrToLower(candidate);
    const size_t distance = EditDistance(lower_word, lower);
    const bool contains = std::min(lower.size(), lower_word.size()) >= 4 &&
                          (absl::StrContains(lower, lower_word) ||
                           absl::StrContains(lower_word, lower));
    if (distance > limit && !contains) continue;
    if (!best || distance < best_distance) {
      best = std::string(candidate);
      best_distance = distance;
    }
  }
  return best;
}

std::string UnknownKeyMessage(
    absl::string_view key, const std::vector<absl::string_view>& candidates) {
  std::optional<std::string> match = ClosestMatch(key, candidates);
  if (match) {
    return absl::StrCat("unknown key '", key, "'; did you mean '", *match,
                        "'?");
  }
  return absl::StrCat("unknown key '", key,
                      "'; expected one of: ", absl::StrJoin(candidates, ", "));
}

}  // namespace reelfarm::config
