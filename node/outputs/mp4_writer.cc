#include "node/outputs/mp4_writer.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "node/outputs/piped_process.h"

namespace reelfarm {

absl::Status WriteMp4(const Video& video, uint32_t fps, uint32_t crf,
                      const std::string& ffmpeg, const std::string& path) {
  if (video.frames.empty() || video.width == 0 || video.height == 0) {
    return absl::InvalidArgumentError("mp4: the clip has no frames");
  }
  const size_t frame_bytes = size_t{video.width} * video.height * 3;
  std::vector<absl::string_view> input;
  for (const std::string& f : video.frames) {
    if (f.size() != frame_bytes) {
      return absl::InvalidArgumentError("mp4: frame size does not match");
    }
    input.emplace_back(f);
  }
  std::vector<std::string> argv = {
      ffmpeg, "-hide_banner", "-nostats", "-loglevel", "error", "-f",
      "rawvideo", "-pix_fmt", "rgb24", "-s",
      absl::StrCat(video.width, "x", video.height), "-framerate",
      absl::StrCat(fps), "-i", "pipe:0", "-an", "-c:v", "libx264", "-preset",
      "medium", "-crf", absl::StrCat(crf), "-pix_fmt", "yuv420p",
      // Players can start before the whole file has arrived.
      "-movflags", "+faststart"};
  if (video.width % 2 != 0 || video.height % 2 != 0) {
    argv.insert(argv.end(), {"-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"});
  }
  argv.insert(argv.end(), {"-f", "mp4", "-y", path});
  if (absl::Status st = RunWithInput(argv, input); !st.ok()) {
    return absl::Status(st.code(), absl::StrCat("mp4: ", st.message()));
  }
  return SyncFile(path);
}

}  // namespace reelfarm
