#ifndef REELFARM_SWEEP_OUTPUT_FORMATS_H_
#define REELFARM_SWEEP_OUTPUT_FORMATS_H_

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "reelfarm/v1/sweep.pb.h"

namespace reelfarm {

// The formats a job can write (SweepSpec.formats, Job.formats).
inline constexpr absl::string_view kFormatFrames = "frames";  // PNG per frame
inline constexpr absl::string_view kFormatGif = "gif";        // clip.gif
inline constexpr absl::string_view kFormatMp4 = "mp4";        // clip.mp4
inline constexpr std::array<absl::string_view, 3> kKnownFormats = {
    kFormatFrames, kFormatGif, kFormatMp4};

// File names inside a job's folder.
inline constexpr char kGifFileName[] = "clip.gif";
inline constexpr char kMp4FileName[] = "clip.mp4";

// Defaults for unset VideoOptions fields: animate.py saves at 8 fps; crf 18
// is x264's "visually lossless" point.
inline constexpr uint32_t kDefaultFps = 8;
inline constexpr uint32_t kDefaultMp4Crf = 18;

inline uint32_t FpsOf(const v1::VideoOptions& o) {
  return o.fps() == 0 ? kDefaultFps : o.fps();
}
inline uint32_t Mp4CrfOf(const v1::VideoOptions& o) {
  return o.has_mp4_crf() ? o.mp4_crf() : kDefaultMp4Crf;
}

}  // namespace reelfarm

#endif  // REELFARM_SWEEP_OUTPUT_FORMATS_H_
