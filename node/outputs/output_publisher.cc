#include "node/outputs/output_publisher.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/find_program.h"
#include "sweep/output_formats.h"
#include "common/safe_path.h"
#include "common/sha256.h"
#include "google/protobuf/util/json_util.h"
#include "node/outputs/gif_writer.h"
#include "node/outputs/mp4_writer.h"
#include "node/outputs/png_writer.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;

constexpr char kStagingFolder[] = ".staging";

std::string SchedulerLabel(const std::string& name) {
  if (name == "ddim" || name.empty()) return "DDIM";
  if (name == "euler") return "Euler";
  if (name == "euler_ancestral") return "Euler a";
  if (name == "dpmpp_2m") return "DPM++ 2M";
  if (name == "dpmpp_2m_karras") return "DPM++ 2M Karras";
  return name;
}

absl::StatusOr<std::vector<v1::OutputFile>> HashFolder(
    const std::string& output_dir, const std::string& name) {
  std::vector<v1::OutputFile> files;
  std::error_code ec;
  const fs::path dir = fs::path(output_dir) / name;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_regular_file(ec)) names.push_back(it->path().filename());
  }
  if (ec) return ErrnoToStatus(ec.value(), absl::StrCat("list ", dir.string()));
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    const std::string full = (dir / n).string();
    absl::StatusOr<std::string> sha = Sha256FileHex(full);
    if (!sha.ok()) return sha.status();
    v1::OutputFile f;
    f.set_path(absl::StrCat(name, "/", n));
    f.set_sha256(*sha);
    f.set_bytes(fs::file_size(full, ec));
    files.push_back(std::move(f));
  }
  return files;
}

// PNG frames carrying A1111's infotext and the job, as tEXt chunks.
absl::Status WriteFrames(
    const v1::Job& job, const Video& video,
    const std::function<absl::Status(const std::string&, absl::string_view)>&
        write) {
  // Only what defines the job: the same job id gives the same file bytes,
  // whichever sweep or folder it was rendered for.
  v1::Job portable;
  portable.set_id(job.id());
  *portable.mutable_params() = job.params();
  portable.mutable_renderer()->set_name(job.renderer().name());
  std::string job_json;
  (void)google::protobuf::util::MessageToJsonString(portable, &job_json);
  const std::vector<std::pair<std::string, std::string>> text = {
      {"parameters", InfoText(job)}, {"reelfarm", job_json}};
  for (size_t f = 0; f < video.frames.size(); ++f) {
    absl::StatusOr<std::string> png =
        EncodePng(video.width, video.height, video.frames[f], text);
    if (!png.ok()) return png.status();
    if (absl::Status st = write(absl::StrFormat("frame_%05d.png", f), *png);
        !st.ok()) {
      return st;
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string InfoText(const v1::Job& job) {
  const v1::RenderParams& p = job.params();
  std::string text = p.prompt();
  if (!p.negative_prompt().empty()) {
    absl::StrAppend(&text, "\nNegative prompt: ", p.negative_prompt());
  }
  absl::StrAppend(
      &text, "\n",
      absl::StrFormat("Steps: %u, Sampler: %s, CFG scale: %g, Seed: %u, "
                      "Size: %ux%u, Frames: %u",
                      p.steps(), SchedulerLabel(p.scheduler()),
                      p.guidance_scale(), p.seed(), p.width(), p.height(),
                      p.frames()));
  const std::string& base = p.models().base().digest();
  if (!base.empty())
    absl::StrAppend(&text, ", Model hash: ", base.substr(7, 10));
  const std::string& motion = p.models().motion_module().digest();
  if (!motion.empty()) {
    absl::StrAppend(&text, ", Motion module hash: ", motion.substr(7, 10));
  }
  absl::StrAppend(&text, ", Job: ", job.id());
  return text;
}

absl::StatusOr<JobFiles> WriteJobFiles(const v1::Job& job, const Video& video,
                                       const std::string& dir) {
  std::vector<std::string> formats(job.formats().begin(), job.formats().end());
  if (formats.empty()) formats.emplace_back(kFormatFrames);
  JobFiles written;
  auto write = [&](const std::string& name,
                   absl::string_view content) -> absl::Status {
    if (absl::Status st =
            WriteFileDurably((fs::path(dir) / name).string(), content);
        !st.ok()) {
      return st;
    }
    written.names.push_back(name);
    return absl::OkStatus();
  };
  const uint32_t fps = FpsOf(job.video());
  for (const std::string& format : formats) {
    if (format == kFormatFrames) {
      absl::Status st = WriteFrames(job, video, write);
      if (!st.ok()) return st;
    } else if (format == kFormatGif) {
      absl::StatusOr<std::string> gif =
          EncodeAnimatedGif(video, fps, job.video().gif_dither());
      if (!gif.ok()) return gif.status();
      if (absl::Status st = write(kGifFileName, *gif); !st.ok()) return st;
    } else if (format == kFormatMp4) {
      absl::StatusOr<std::string> ffmpeg = FindFfmpeg();
      if (!ffmpeg.ok()) {
        written.warnings.push_back(
            absl::StrCat("mp4 not written: ", ffmpeg.status().message()));
        continue;
      }
      const std::string path = (fs::path(dir) / kMp4FileName).string();
      absl::Status st =
          WriteMp4(video, fps, Mp4CrfOf(job.video()), *ffmpeg, path);
      if (!st.ok()) return st;
      written.names.push_back(kMp4FileName);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown output format '", format, "'"));
    }
  }
  return written;
}

absl::StatusOr<PublishedOutputs> PublishJobOutputs(const v1::Job& job,
                                                   const Video& video) {
  static std::atomic<uint64_t> counter{0};
  // The name came over the network: whatever made it, nothing is written
  // unless it is one plain name inside the output folder.
  absl::StatusOr<fs::path> inside =
      PathInside(job.output_dir(), job.output_name());
  if (!inside.ok()) return inside.status();
  const fs::path final_dir = *inside;
  const fs::path out = final_dir.parent_path();
  const fs::path staging = out / kStagingFolder /
                           absl::StrCat(job.output_name(), ".", ::getpid(), ".",
                                        counter.fetch_add(1));
  if (absl::Status st = MakeDirectories(staging.string()); !st.ok()) return st;
  absl::StatusOr<JobFiles> written =
      WriteJobFiles(job, video, staging.string());
  absl::Status st = written.status();
  if (st.ok()) st = SyncDirectory(staging.string());
  if (st.ok() && ::rename(staging.c_str(), final_dir.c_str()) != 0) {
    if (errno != EEXIST && errno != ENOTEMPTY) {
      st = ErrnoToStatus(errno, absl::StrCat("publish ", final_dir.string()));
    }
  } else if (st.ok()) {
    st = SyncDirectory(out.string());
  }
  std::error_code ignored;
  fs::remove_all(staging, ignored);  // gone already when the rename worked
  if (!st.ok()) return st;
  absl::StatusOr<std::vector<v1::OutputFile>> files =
      HashFolder(out.string(), job.output_name());
  if (!files.ok()) return files.status();
  return PublishedOutputs{*std::move(files), std::move(written->warnings)};
}

}  // namespace reelfarm
