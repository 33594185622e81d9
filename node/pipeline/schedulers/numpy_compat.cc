#include "node/pipeline/schedulers/numpy_compat.h"

#include <algorithm>
#include <cmath>

namespace reelfarm::pipeline::numpy_compat {

std::vector<double> Linspace(double start, double stop, int64_t num) {
  std::vector<double> out;
  if (num <= 0) return out;
  out.reserve(num);
  if (num == 1) {
    out.push_back(start);
    return out;
  }
  const double step = (stop - start) / static_cast<double>(num - 1);
  for (int64_t i = 0; i < num; ++i) {
    out.push_back(static_cast<double>(i) * step + start);
  }
  out.back() = stop;
  return out;
}

std::vector<double> Arange(double start, double stop, double step) {
  std::vector<double> out;
  const double len = std::ceil((stop - start) / step);
  if (!(len > 0)) return out;
  const auto n = static_cast<int64_t>(len);
  out.reserve(n);
  out.push_back(start);
  if (n == 1) return out;
  // numpy fills from the first two elements, so the increment it uses is
  // (start + step) - start, which can differ from step in the last bit.
  const double delta = (start + step) - start;
  out.push_back(start + step);
  for (int64_t i = 2; i < n; ++i) {
    out.push_back(start + static_cast<double>(i) * delta);
  }
  return out;
}

double Round(double x) { return std::nearbyint(x); }

std::vector<double> Interp(const std::vector<double>& x,
                           const std::vector<double>& xp,
                           const std::vector<double>& fp) {
  std::vector<double> out;
  out.reserve(x.size());
  const size_t n = xp.size();
  for (double v : x) {
    if (std::isnan(v)) {
      out.push_back(v);
    } else if (v < xp.front()) {
      out.push_back(fp.front());
    } else if (v > xp.back()) {
      out.push_back(fp.back());
    } else {
      // j with xp[j] <= v < xp[j + 1], or the last point.
      const size_t j =
          std::upper_bound(xp.begin(), xp.end(), v) - xp.begin() - 1;
      if (j == n - 1 || xp[j] == v) {
        out.push_back(fp[j]);
      } else {
        const double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
        out.push_back(slope * (v - xp[j]) + fp[j]);
      }
    }
  }
  return out;
}

}  // namespace reelfarm::pipeline::numpy_compat
