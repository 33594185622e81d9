#include "sweep/output_settings.h"

#include <algorithm>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sweep/output_formats.h"
#include "sweep/render_fields.h"
#include "sweep/scalars.h"
#include "sweep/suggest.h"

namespace reelfarm::config {
namespace {

constexpr uint32_t kMaxFps = 60;
constexpr uint32_t kMaxCrf = 51;  // x264's scale

std::vector<absl::string_view> FormatNames() {
  return {kKnownFormats.begin(), kKnownFormats.end()};
}

std::vector<absl::string_view> FieldNames() {
  std::vector<absl::string_view> names;
  for (const RenderField& f : RenderFields()) names.push_back(f.name);
  return names;
}

void DefaultFormats(LoadContext& ctx) {
  ctx.spec->clear_formats();
  ctx.spec->add_formats(std::string(kFormatFrames));
  ctx.spec->add_formats(std::string(kFormatGif));
  if (ctx.options.mp4_available) {
    ctx.spec->add_formats(std::string(kFormatMp4));
  }
}

absl::Status ReadFormats(const MapEntry& e, LoadContext& ctx) {
  const YamlSource& src = ctx.source;
  if (!e.value.IsSequence() || e.value.size() == 0) {
    return src.Error(
        e, absl::StrCat("must be a non-empty list, got ", Describe(e.value)));
  }
  std::set<std::string> seen;
  for (const YAML::Node& f : e.value) {
    absl::StatusOr<std::string> t = ReadText(f, "formats", src);
    if (!t.ok()) return t.status();
    const std::vector<absl::string_view> known = FormatNames();
    if (std::find(known.begin(), known.end(), *t) == known.end()) {
      std::string message = absl::StrCat("unknown format '", *t, "'");
      if (std::optional<std::string> close = ClosestMatch(*t, known)) {
        absl::StrAppend(&message, "; did you mean '", *close, "'?");
      } else {
        absl::StrAppend(&message, "; supported: ", absl::StrJoin(known, ", "));
      }
      return src.Error(f, "formats", message);
    }
    if (!seen.insert(*t).second) {
      return src.Error(f, "formats",
                       absl::StrCat("'", *t, "' is listed twice"));
    }
    if (*t == kFormatMp4 && !ctx.options.mp4_available) {
      ctx.Warn(f, "formats",
               "mp4 needs the ffmpeg program, which is not on this machine's "
               "PATH (or REELFARM_FFMPEG); nodes without it write the other "
               "formats and a warning");
    }
    ctx.spec->add_formats(*t);
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ReadBounded(const MapEntry& e, absl::string_view field,
                                     uint32_t lo, uint32_t hi,
                                     const YamlSource& src) {
  std::optional<WideInt> v = ParseInteger(e.value);
  if (!v || *v < lo || *v > hi) {
    return src.Error(e.value, field,
                     absl::StrCat("must be an integer from ", lo, " to ", hi,
                                  ", got ", Describe(e.value)));
  }
  return static_cast<uint32_t>(*v);
}

absl::Status ReadVideo(const MapEntry& section, LoadContext& ctx) {
  const YamlSource& src = ctx.source;
  if (!section.value.IsMap()) {
    return src.Error(
        section, absl::StrCat("must be a map, got ", Describe(section.value)));
  }
  absl::StatusOr<std::vector<MapEntry>> keys =
      MapEntries(section.value, src, "video");
  if (!keys.ok()) return keys.status();
  v1::VideoOptions* video = ctx.spec->mutable_video();
  for (const MapEntry& k : *keys) {
    const std::string field = absl::StrCat("video.", k.key);
    if (k.key == "fps") {
      absl::StatusOr<uint32_t> v = ReadBounded(k, field, 1, kMaxFps, src);
      if (!v.ok()) return v.status();
      video->set_fps(*v);
    } else if (k.key == "gif_dither") {
      absl::StatusOr<bool> v = ReadBool(k.value, field, src);
      if (!v.ok()) return v.status();
      video->set_gif_dither(*v);
    } else if (k.key == "mp4_crf") {
      absl::StatusOr<uint32_t> v = ReadBounded(k, field, 0, kMaxCrf, src);
      if (!v.ok()) return v.status();
      video->set_mp4_crf(*v);
    } else {
      return src.Error(
          k.key_node, "video",
          UnknownKeyMessage(k.key, {"fps", "gif_dither", "mp4_crf"}));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadGallery(const MapEntry& section, LoadContext& ctx) {
  const YamlSource& src = ctx.source;
  if (!section.value.IsMap()) {
    return src.Error(
        section, absl::StrCat("must be a map, got ", Describe(section.value)));
  }
  absl::StatusOr<std::vector<MapEntry>> keys =
      MapEntries(section.value, src, "gallery");
  if (!keys.ok()) return keys.status();
  v1::GalleryOptions* gallery = ctx.spec->mutable_gallery();
  const std::string default_rows = gallery->rows();
  const std::string default_columns = gallery->columns();
  const MapEntry* rows = nullptr;
  const MapEntry* columns = nullptr;
  for (const MapEntry& k : *keys) {
    const std::string field = absl::StrCat("gallery.", k.key);
    if (k.key != "rows" && k.key != "columns") {
      return src.Error(k.key_node, "gallery",
                       UnknownKeyMessage(k.key, {"rows", "columns"}));
    }
    absl::StatusOr<std::string> t = ReadText(k.value, field, src);
    if (!t.ok()) return t.status();
    const RenderField* f = FindRenderField(*t);
    if (f == nullptr) {
      std::string message = absl::StrCat("'", *t, "' is not a render field");
      if (std::optional<std::string> close = ClosestMatch(*t, FieldNames())) {
        absl::StrAppend(&message, "; did you mean '", *close, "'?");
      } else {
        absl::StrAppend(
            &message, "; expected one of: ", absl::StrJoin(FieldNames(), ", "));
      }
      return src.Error(k.value, field, message);
    }
    if (k.key == "rows") {
      gallery->set_rows(std::string(f->name));
      rows = &k;
    } else {
      gallery->set_columns(std::string(f->name));
      columns = &k;
    }
  }
  if (gallery->rows() != gallery->columns()) return absl::OkStatus();
  // One axis given, onto the other's default: the defaults trade places
  // ({rows: seed} gives seed rows and prompt columns).
  if (rows != nullptr && columns == nullptr) {
    gallery->set_columns(default_rows);
  } else if (columns != nullptr && rows == nullptr) {
    gallery->set_rows(default_columns);
  } else {
    return src.Error(columns->value, "gallery.columns",
                     absl::StrCat("must differ from gallery.rows ('",
                                  gallery->rows(), "')"));
  }
  return absl::OkStatus();
}

}  // namespace

void ApplyDefaultOutputSettings(LoadContext& ctx) {
  DefaultFormats(ctx);
  v1::VideoOptions* video = ctx.spec->mutable_video();
  video->set_fps(kDefaultFps);
  video->set_gif_dither(true);
  video->set_mp4_crf(kDefaultMp4Crf);
  ctx.spec->mutable_gallery()->set_rows("prompt");
  ctx.spec->mutable_gallery()->set_columns("seed");
}

absl::Status ReadOutputSettings(const MapEntry* formats, const MapEntry* video,
                                const MapEntry* gallery, LoadContext& ctx) {
  ApplyDefaultOutputSettings(ctx);
  if (formats != nullptr) {
    ctx.spec->clear_formats();
    if (absl::Status st = ReadFormats(*formats, ctx); !st.ok()) return st;
  }
  if (video != nullptr) {
    if (absl::Status st = ReadVideo(*video, ctx); !st.ok()) return st;
  }
  if (gallery != nullptr) {
    // Only the keys given change: {columns: guidance_scale} keeps prompt rows.
    if (absl::Status st = ReadGallery(*gallery, ctx); !st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace reelfarm::config
