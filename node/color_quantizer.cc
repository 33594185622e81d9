#include "node/color_quantizer.h"

#include <algorithm>
#include <queue>

namespace reelfarm {
namespace {

// A distinct colour and how many pixels have it.
struct Entry {
  uint32_t rgb;  // 0x00RRGGBB
  uint32_t count;
};

int Channel(uint32_t rgb, int c) { return (rgb >> (16 - 8 * c)) & 0xff; }

// A box of colour space: entries [begin, end) of the shared array.
struct Box {
  size_t begin, end;
  int axis;         // longest side
  double priority;  // pixels x squared extent of the longest side
};

Box MakeBox(const std::vector<Entry>& e, size_t begin, size_t end) {
  int lo[3] = {255, 255, 255}, hi[3] = {0, 0, 0};
  uint64_t pixels = 0;
  for (size_t i = begin; i < end; ++i) {
    for (int c = 0; c < 3; ++c) {
      lo[c] = std::min(lo[c], Channel(e[i].rgb, c));
      hi[c] = std::max(hi[c], Channel(e[i].rgb, c));
    }
    pixels += e[i].count;
  }
  int axis = 0;
  for (int c = 1; c < 3; ++c) {
    if (hi[c] - lo[c] > hi[axis] - lo[axis]) axis = c;
  }
  const double extent = hi[axis] - lo[axis];
  // A box of one colour cannot be split: it sorts last.
  const double priority = end - begin < 2 ? -1 : extent * extent * pixels;
  return {begin, end, axis, priority};
}

struct ByPriority {
  bool operator()(const Box& a, const Box& b) const {
    return a.priority < b.priority;
  }
};

}  // namespace

std::vector<Rgb> MedianCutPalette(const std::vector<std::string>& frames,
                                  size_t max_colors) {
  max_colors = std::clamp<size_t>(max_colors, 1, 256);
  // Distinct colours with counts, by sorting every pixel (exact: a smooth
  // gradient keeps all its levels, unlike a coarse histogram).
  std::vector<uint32_t> pixels;
  size_t total = 0;
  for (const std::string& f : frames) total += f.size() / 3;
  pixels.reserve(total);
  for (const std::string& f : frames) {
    const auto* p = reinterpret_cast<const uint8_t*>(f.data());
    for (size_t i = 0; i + 2 < f.size(); i += 3) {
      pixels.push_back(uint32_t{p[i]} << 16 | uint32_t{p[i + 1]} << 8 |
                       p[i + 2]);
    }
  }
  if (pixels.empty()) return {Rgb{0, 0, 0}};
  std::sort(pixels.begin(), pixels.end());
  std::vector<Entry> entries;
  for (uint32_t px : pixels) {
    if (!entries.empty() && entries.back().rgb == px) {
      ++entries.back().count;
    } else {
      entries.push_back({px, 1});
    }
  }
  pixels = {};

  std::priority_queue<Box, std::vector<Box>, ByPriority> boxes;
  boxes.push(MakeBox(entries, 0, entries.size()));
  while (boxes.size() < max_colors && boxes.top().priority >= 0) {
    const Box box = boxes.top();
    boxes.pop();
    auto first = entries.begin() + box.begin;
    auto last = entries.begin() + box.end;
    std::sort(first, last, [axis = box.axis](const Entry& a, const Entry& b) {
      return Channel(a.rgb, axis) < Channel(b.rgb, axis);
    });
    // Split at the weighted median, leaving at least one entry each side.
    uint64_t box_pixels = 0;
    for (auto it = first; it != last; ++it) box_pixels += it->count;
    uint64_t seen = 0;
    size_t split = box.begin + 1;
    for (size_t i = box.begin; i + 1 < box.end; ++i) {
      seen += entries[i].count;
      split = i + 1;
      if (2 * seen >= box_pixels) break;
    }
    boxes.push(MakeBox(entries, box.begin, split));
    boxes.push(MakeBox(entries, split, box.end));
  }

  std::vector<Rgb> palette;
  for (; !boxes.empty(); boxes.pop()) {
    const Box& box = boxes.top();
    uint64_t sum[3] = {0, 0, 0}, n = 0;
    for (size_t i = box.begin; i < box.end; ++i) {
      for (int c = 0; c < 3; ++c) {
        sum[c] += uint64_t{entries[i].count} * Channel(entries[i].rgb, c);
      }
      n += entries[i].count;
    }
    Rgb mean;
    for (int c = 0; c < 3; ++c) {
      mean[c] = static_cast<uint8_t>((sum[c] + n / 2) / n);
    }
    palette.push_back(mean);
  }
  std::sort(palette.begin(), palette.end());  // deterministic order
  return palette;
}

}  // namespace reelfarm
