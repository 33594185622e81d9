#include "sweep/job_id.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sweep/context_settings.h"
#include "common/sha256.h"

namespace reelfarm {
namespace {

// Appends "tag:len:bytes;" so no two field sequences share an encoding.
void PutText(std::string* out, absl::string_view tag, absl::string_view value) {
  absl::StrAppend(out, tag, ":", value.size(), ":", value, ";");
}

void PutNumber(std::string* out, absl::string_view tag, uint64_t value) {
  absl::StrAppend(out, tag, "=", value, ";");
}

void PutReal(std::string* out, absl::string_view tag, double value) {
  // %a is exact and locale-free: 7.5 and 7.50000001 never collide.
  absl::StrAppend(out, tag, "=", absl::StrFormat("%a", value), ";");
}

void PutModel(std::string* out, absl::string_view tag, const v1::ModelRef& m) {
  PutText(out, tag, m.digest());
}

void PutLora(std::string* out, absl::string_view tag, const v1::LoraRef& l) {
  PutModel(out, tag, l.model());
  PutReal(out, tag, l.alpha());
}

}  // namespace

std::string CanonicalRenderBytes(const v1::RenderParams& p,
                                 absl::string_view renderer) {
  std::string out = "reelfarm.job.v1;";
  out.reserve(256 + p.prompt().size() + p.negative_prompt().size());
  PutText(&out, "renderer", renderer);
  PutText(&out, "prompt", p.prompt());
  PutText(&out, "n_prompt", p.negative_prompt());
  PutNumber(&out, "seed", p.seed());
  PutNumber(&out, "W", p.width());
  PutNumber(&out, "H", p.height());
  PutNumber(&out, "L", p.frames());
  PutNumber(&out, "steps", p.steps());
  PutReal(&out, "guidance", p.guidance_scale());
  PutText(&out, "scheduler", p.scheduler());
  const v1::ModelSet& m = p.models();
  PutModel(&out, "base", m.base());
  PutModel(&out, "motion", m.motion_module());
  PutModel(&out, "dreambooth", m.dreambooth());
  PutModel(&out, "inference", m.inference_config());
  PutNumber(&out, "loras", m.loras_size());
  for (const v1::LoraRef& l : m.loras()) PutLora(&out, "lora", l);
  PutNumber(&out, "motion_loras", m.motion_loras_size());
  for (const v1::LoraRef& l : m.motion_loras()) PutLora(&out, "mlora", l);
  PutLora(&out, "adapter", m.adapter_lora());
  // Windows change the pixels; left at their defaults they add nothing, so
  // the ids of sweeps without these keys stay as they were. How many
  // devices render a video does not change it (beyond float rounding).
  const ContextSettings ctx = ContextSettingsOf(p);
  if (!ctx.IsDefault()) {
    PutNumber(&out, "ctx_length", ctx.length);
    PutNumber(&out, "ctx_stride", ctx.stride);
    PutText(&out, "ctx_fuse", ctx.fuse);
    PutNumber(&out, "ctx_loop", ctx.loop ? 1 : 0);
    PutNumber(&out, "free_noise", ctx.free_noise ? 1 : 0);
  }
  return out;
}

std::string JobIdFor(const v1::RenderParams& params,
                     absl::string_view renderer) {
  return Sha256Hex(CanonicalRenderBytes(params, renderer)).substr(0, 24);
}

std::string JobOutputName(const v1::RenderParams& params,
                          absl::string_view job_id) {
  constexpr size_t kMaxSlug = 40;
  std::string slug;
  bool dash = false;
  for (char c : params.prompt()) {
    const bool upper = c >= 'A' && c <= 'Z';
    if (upper) c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      dash = true;
      continue;
    }
    const size_t need = (dash && !slug.empty()) ? 2 : 1;
    if (slug.size() + need > kMaxSlug) break;
    if (need == 2) slug.push_back('-');
    slug.push_back(c);
    dash = false;
  }
  if (slug.empty()) slug = "job";
  return absl::StrCat(slug, "-", job_id.substr(0, 12));
}

}  // namespace reelfarm
