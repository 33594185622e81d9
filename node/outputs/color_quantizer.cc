#include "node/outputs/color_quantizer.h"

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
  // Distinct colours with counts, from every pixel (exact: a smooth
  // gradient keeps all its levels, unlike a coarse histogram). An LSD radix
  // sort on the 24-bit colours keeps this linear for 512x512x16 clips.
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
  std::vector<uint32_t> scratch(pixels.size());
  for (int shift = 0; shift < 24; shift += 8) {
    size_t start[257] = {};
    for (uint32_t px : pixels) ++start[((px >> shift) & 0xff) + 1];
    for (int b = 0; b < 256; ++b) start[b + 1] += start[b];
    for (uint32_t px : pixels) scratch[start[(px >> shift) & 0xff]++] = px;
    pixels.swap(scratch);
  }
  scratch = {};
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
    // Split at the weighted median of the longest side: a histogram of that
    // channel, then a partition (linear, no sort). Both halves keep at
    // least one colour since the cut lies below the box's top value.
    uint64_t histogram[256] = {};
    uint64_t box_pixels = 0;
    int top = 0;
    for (size_t i = box.begin; i < box.end; ++i) {
      const int v = Channel(entries[i].rgb, box.axis);
      histogram[v] += entries[i].count;
      box_pixels += entries[i].count;
      top = std::max(top, v);
    }
    int cut = 0;
    for (uint64_t seen = 0; cut < top; ++cut) {
      seen += histogram[cut];
      if (seen > 0 && 2 * seen >= box_pixels) break;
    }
    cut = std::min(cut, top - 1);
    const auto middle = std::partition(
        entries.begin() + box.begin, entries.begin() + box.end,
        [&](const Entry& e) { return Channel(e.rgb, box.axis) <= cut; });
    const size_t split = static_cast<size_t>(middle - entries.begin());
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
