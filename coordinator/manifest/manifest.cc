#include "coordinator/manifest/manifest.h"

#include <filesystem>
#include <map>

#include "common/atomic_file.h"
#include "sweep/context_settings.h"
#include "sweep/output_formats.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"

namespace reelfarm {
namespace {

using google::protobuf::util::TimeUtil;
using json = nlohmann::ordered_json;

std::string Rfc3339(const google::protobuf::Timestamp& t) {
  return TimeUtil::ToString(t);
}

json ParamsJson(const v1::RenderParams& p) {
  json j{{"prompt", p.prompt()},      {"n_prompt", p.negative_prompt()},
         {"seed", p.seed()},          {"W", p.width()},
         {"H", p.height()},           {"L", p.frames()},
         {"steps", p.steps()},        {"guidance_scale", p.guidance_scale()},
         {"scheduler", p.scheduler()}};
  // Only what a sweep set away from the defaults, as the job id does.
  const ContextSettings ctx = ContextSettingsOf(p);
  if (!ctx.IsDefault()) {
    j["context_length"] = ctx.length;
    j["context_stride"] = ctx.stride;
    j["context_fuse"] = ctx.fuse;
    j["context_loop"] = ctx.loop;
    j["free_noise"] = ctx.free_noise;
  }
  if (DevicesPerVideo(p) > 1) j["devices_per_video"] = DevicesPerVideo(p);
  if (p.split_frames()) j["split_frames"] = true;
  return j;
}

// role -> ref for every model a job uses.
std::map<std::string, v1::ModelRef> ModelsOf(const v1::RenderParams& p) {
  std::map<std::string, v1::ModelRef> out;
  const v1::ModelSet& m = p.models();
  auto add = [&](const std::string& role, const v1::ModelRef& ref) {
    if (!ref.path().empty()) out[role] = ref;
  };
  add("pretrained_model_path", m.base());
  add("motion_module", m.motion_module());
  add("dreambooth_path", m.dreambooth());
  add("inference_config", m.inference_config());
  add("adapter_lora_path", m.adapter_lora().model());
  for (int i = 0; i < m.loras_size(); ++i) {
    add("lora_model_path" + (i ? "." + std::to_string(i) : ""),
        m.loras(i).model());
  }
  for (int i = 0; i < m.motion_loras_size(); ++i) {
    add("motion_module_lora." + std::to_string(i), m.motion_loras(i).model());
  }
  return out;
}

// Only the fields SLURM set: an array task id of "" would read as a task.
json SlurmJson(const v1::SlurmProvenance& p) {
  json j{{"job_id", p.job_id()}};
  if (!p.array_job_id().empty()) j["array_job_id"] = p.array_job_id();
  if (!p.array_task_id().empty()) j["array_task_id"] = p.array_task_id();
  if (!p.step_id().empty()) j["step_id"] = p.step_id();
  if (!p.node_name().empty()) j["node_name"] = p.node_name();
  j["restart_count"] = p.restart_count();
  return j;
}

json JobJson(const v1::JobStatus& status) {
  const v1::Job& job = status.job();
  json j{{"id", job.id()},
         {"index", job.index()},
         {"block", job.block()},
         {"status", JobStateName(status.state())},
         {"attempts", status.attempts()},
         {"output", job.output_name()},
         {"params", ParamsJson(job.params())}};
  json models = json::object();
  for (const auto& [role, ref] : ModelsOf(job.params())) {
    models[role] = ref.digest();
  }
  j["models"] = models;
  if (!status.last_error().empty()) j["error"] = status.last_error();
  if (status.state() == v1::JOB_STATE_DONE) {
    const v1::JobResult& r = status.result();
    json files = json::array();
    for (const v1::OutputFile& f : r.files()) {
      files.push_back(
          {{"path", f.path()}, {"sha256", f.sha256()}, {"bytes", f.bytes()}});
    }
    j["files"] = files;
    if (r.warnings_size() > 0) j["warnings"] = r.warnings();
    j["node"] = r.node_id();
    j["lane"] = r.lane();
    if (r.devices_size() > 1) {
      j["devices"] =
          std::vector<std::string>(r.devices().begin(), r.devices().end());
    }
    // Rendered for an earlier sweep and reused: the files are the same.
    if (!r.reused_from_sweep().empty())
      j["reused_from"] = r.reused_from_sweep();
    if (r.has_slurm()) j["slurm"] = SlurmJson(r.slurm());
    j["timings"] = {{"started", Rfc3339(r.timings().started())},
                    {"finished", Rfc3339(r.timings().finished())},
                    {"render_seconds", r.timings().render_seconds()},
                    {"write_seconds", r.timings().write_seconds()}};
  }
  return j;
}

}  // namespace

std::string JobStateName(v1::JobState state) {
  switch (state) {
    case v1::JOB_STATE_PENDING:
      return "pending";
    case v1::JOB_STATE_LEASED:
      return "running";
    case v1::JOB_STATE_DONE:
      return "done";
    case v1::JOB_STATE_FAILED:
      return "failed";
    case v1::JOB_STATE_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
  }
}

std::string SweepStateName(v1::SweepState state) {
  switch (state) {
    case v1::SWEEP_STATE_RUNNING:
      return "running";
    case v1::SWEEP_STATE_DONE:
      return "done";
    case v1::SWEEP_STATE_FAILED:
      return "failed";
    case v1::SWEEP_STATE_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
  }
}

std::string RenderManifestJson(const v1::SweepStatus& sweep,
                               const std::vector<v1::JobStatus>& jobs) {
  const v1::SweepSpec& spec = sweep.spec();
  const v1::SweepCounts& c = sweep.counts();
  json s{{"id", sweep.id()},
         {"name", spec.name()},
         {"source", spec.source_path()},
         {"output_dir", spec.output_dir()},
         {"renderer", spec.renderer().name()},
         {"formats", spec.formats()},
         {"video",
          {{"fps", FpsOf(spec.video())},
           {"gif_dither", spec.video().gif_dither()},
           {"mp4_crf", Mp4CrfOf(spec.video())}}},
         {"state", SweepStateName(sweep.state())},
         {"submitted", Rfc3339(sweep.submitted())},
         {"counts",
          {{"total", c.total()},
           {"pending", c.pending()},
           {"running", c.leased()},
           {"done", c.done()},
           {"failed", c.failed()},
           {"cancelled", c.cancelled()}}}};
  if (sweep.has_finished()) s["finished"] = Rfc3339(sweep.finished());
  if (spec.drawn_seeds_size() > 0) s["drawn_seeds"] = spec.drawn_seeds();
  if (spec.warnings_size() > 0) s["warnings"] = spec.warnings();

  std::map<std::string, json> models;  // digest -> entry
  json job_list = json::array();
  for (const v1::JobStatus& status : jobs) {
    for (const auto& [role, ref] : ModelsOf(status.job().params())) {
      models.emplace(
          ref.digest(),
          json{{"role", role}, {"path", ref.path()}, {"digest", ref.digest()}});
    }
    job_list.push_back(JobJson(status));
  }
  json model_list = json::array();
  for (auto& [digest, entry] : models) model_list.push_back(std::move(entry));

  json doc{{"manifest_version", 1},
           {"sweep", std::move(s)},
           {"models", std::move(model_list)},
           {"jobs", std::move(job_list)}};
  return doc.dump(1) + "\n";
}

std::string RenderMetadataJsonl(const std::vector<v1::JobStatus>& jobs) {
  std::string out;
  for (const v1::JobStatus& status : jobs) {
    if (status.state() != v1::JOB_STATE_DONE) continue;
    json line = ParamsJson(status.job().params());
    line["job_id"] = status.job().id();
    for (const v1::OutputFile& f : status.result().files()) {
      line["file_name"] = f.path();
      out += line.dump();
      out += '\n';
    }
  }
  return out;
}

absl::Status WriteManifest(const v1::SweepStatus& sweep,
                           const std::vector<v1::JobStatus>& jobs) {
  const std::filesystem::path dir = sweep.spec().output_dir();
  if (absl::Status st = MakeDirectories(dir.string()); !st.ok()) return st;
  if (absl::Status st = WriteFileAtomically((dir / kMetadataFile).string(),
                                            RenderMetadataJsonl(jobs));
      !st.ok()) {
    return st;
  }
  return WriteFileAtomically((dir / kManifestFile).string(),
                             RenderManifestJson(sweep, jobs));
}

}  // namespace reelfarm
