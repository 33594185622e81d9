#include "coordinator/manifest/gallery.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/atomic_file.h"
#include "sweep/context_settings.h"
#include "sweep/output_formats.h"
#include "coordinator/manifest/gallery_page.h"
#include "coordinator/manifest/manifest.h"
#include "nlohmann/json.hpp"

namespace reelfarm {
namespace {

using json = nlohmann::ordered_json;

std::string Basename(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

// Every render field of a job as display text, by config key. Seeds are
// text too: a uint64 does not survive a JavaScript number.
json FieldValues(const v1::RenderParams& p) {
  json v{{"prompt", p.prompt()},
         {"n_prompt", p.negative_prompt()},
         {"seed", absl::StrCat(p.seed())},
         {"W", absl::StrCat(p.width())},
         {"H", absl::StrCat(p.height())},
         {"L", absl::StrCat(p.frames())},
         {"steps", absl::StrCat(p.steps())},
         {"guidance_scale", absl::StrCat(p.guidance_scale())},
         {"scheduler", p.scheduler()}};
  const ContextSettings ctx = ContextSettingsOf(p);
  if (!ctx.IsDefault()) {
    v["context_length"] = absl::StrCat(ctx.length);
    v["context_stride"] = absl::StrCat(ctx.stride);
    v["context_fuse"] = ctx.fuse;
    v["context_loop"] = ctx.loop ? "true" : "false";
    v["free_noise"] = ctx.free_noise ? "true" : "false";
  }
  if (DevicesPerVideo(p) > 1) {
    v["devices_per_video"] = absl::StrCat(DevicesPerVideo(p));
  }
  if (p.split_frames()) v["split_frames"] = "true";
  const v1::ModelSet& m = p.models();
  auto model = [&](const char* key, const v1::ModelRef& ref) {
    if (!ref.path().empty()) v[key] = Basename(ref.path());
  };
  model("pretrained_model_path", m.base());
  model("motion_module", m.motion_module());
  model("dreambooth_path", m.dreambooth());
  model("inference_config", m.inference_config());
  if (m.loras_size() > 0) {
    v["lora_model_path"] = Basename(m.loras(0).model().path());
    v["lora_alpha"] = absl::StrCat(m.loras(0).alpha());
  }
  return v;
}

json JobEntry(const v1::JobStatus& status) {
  const v1::Job& job = status.job();
  json j{{"id", job.id()},
         {"status", JobStateName(status.state())},
         {"values", FieldValues(job.params())}};
  if (!status.last_error().empty()) j["error"] = status.last_error();
  if (status.state() == v1::JOB_STATE_DONE) {
    json files = json::object();
    for (const v1::OutputFile& f : status.result().files()) {
      const std::string name = Basename(f.path());
      if (name == kGifFileName) {
        files["gif"] = f.path();
      } else if (name == kMp4FileName) {
        files["mp4"] = f.path();
      } else if (!files.contains("frame")) {
        files["frame"] = f.path();  // the first frame, as a still
      }
    }
    j["files"] = files;
    if (status.result().warnings_size() > 0) {
      j["warnings"] = status.result().warnings();
    }
  }
  return j;
}

}  // namespace

std::string JsonForScript(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"<", "\\u003c"},
                                    {">", "\\u003e"},
                                    {"&", "\\u0026"},
                                    {"\xE2\x80\xA8", "\\u2028"},
                                    {"\xE2\x80\xA9", "\\u2029"}});
}

std::string HtmlEscape(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"},
                                    {"<", "&lt;"},
                                    {">", "&gt;"},
                                    {"\"", "&quot;"},
                                    {"'", "&#39;"}});
}

std::string RenderGalleryHtml(const v1::SweepStatus& sweep,
                              const std::vector<v1::JobStatus>& jobs) {
  const v1::SweepSpec& spec = sweep.spec();
  const v1::SweepCounts& c = sweep.counts();
  json job_list = json::array();
  for (const v1::JobStatus& status : jobs) job_list.push_back(JobEntry(status));
  json data{{"sweep",
             {{"id", sweep.id()},
              {"name", spec.name()},
              {"state", SweepStateName(sweep.state())},
              {"counts",
               {{"total", c.total()},
                {"done", c.done()},
                {"failed", c.failed()},
                {"pending", c.pending() + c.leased()},
                {"cancelled", c.cancelled()}}},
              {"fps", FpsOf(spec.video())},
              {"rows", spec.gallery().rows().empty() ? "prompt"
                                                     : spec.gallery().rows()},
              {"columns", spec.gallery().columns().empty()
                              ? "seed"
                              : spec.gallery().columns()}}},
            {"jobs", std::move(job_list)}};
  // Invalid UTF-8 in a prompt becomes U+FFFD rather than an exception.
  const std::string data_json =
      JsonForScript(data.dump(-1, ' ', false, json::error_handler_t::replace));
  const bool running = sweep.state() == v1::SWEEP_STATE_RUNNING;
  return absl::StrCat(
      kGalleryHead,
      // While results arrive the page rereads itself; the chosen axes live
      // in the URL's #fragment, so they survive the reload.
      running ? "<meta http-equiv=\"refresh\" content=\"10\">\n" : "",
      "<title>", HtmlEscape(spec.name()), " - reelfarm gallery</title>\n",
      kGalleryStyle, "</head>\n<body>\n",
      "<script type=\"application/json\" id=\"gallery-data\">", data_json,
      "</script>\n", kGalleryBody, kGalleryScript, "</body>\n</html>\n");
}

absl::Status WriteGallery(const v1::SweepStatus& sweep,
                          const std::vector<v1::JobStatus>& jobs) {
  const std::filesystem::path dir = sweep.spec().output_dir();
  if (absl::Status st = MakeDirectories(dir.string()); !st.ok()) return st;
  return WriteFileAtomically((dir / kGalleryFile).string(),
                             RenderGalleryHtml(sweep, jobs));
}

}  // namespace reelfarm
