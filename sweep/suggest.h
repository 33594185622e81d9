#ifndef REELFARM_SWEEP_SUGGEST_H_
#define REELFARM_SWEEP_SUGGEST_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace reelfarm::config {

// Levenshtein distance (insert, delete, substitute; each costs 1).
size_t EditDistance(absl::string_view a, absl::string_view b);

// The candidate `word` was most likely meant to be, or nullopt when none is
// close. Comparison ignores case. A candidate is close when its distance is
// at most max(2, |word|/3), or when one contains the other (at least 4
// characters), so "guidance" finds "guidance_scale".
std::optional<std::string> ClosestMatch(
    absl::string_view word, const std::vector<absl::string_view>& candidates);

// "unknown key 'guidance'; did you mean 'guidance_scale'?", or, when nothing
// is close, "unknown key 'x'; expected one of: a, b, c".
std::string UnknownKeyMessage(absl::string_view key,
                              const std::vector<absl::string_view>& candidates);

}  // namespace reelfarm::config

#endif  // REELFARM_SWEEP_SUGGEST_H_
