#ifndef REELFARM_COORDINATOR_MANIFEST_GALLERY_H_
#define REELFARM_COORDINATOR_MANIFEST_GALLERY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm {

inline constexpr char kGalleryFile[] = "gallery.html";

// gallery.html: one self-contained page (inline CSS and JS, no network)
// that opens from the filesystem. It shows the sweep as a grid over two
// render fields (SweepSpec.gallery, default prompt x seed; the page can
// switch them), each cell playing its job's GIF (or MP4), with the job's
// parameters on hover and click, and failed jobs with their error.
std::string RenderGalleryHtml(const v1::SweepStatus& sweep,
                              const std::vector<v1::JobStatus>& jobs);

// Writes it into the sweep's output folder atomically.
absl::Status WriteGallery(const v1::SweepStatus& sweep,
                          const std::vector<v1::JobStatus>& jobs);

// `json` made safe inside <script>: '<', '>', '&', U+2028 and U+2029
// become \u escapes (they occur only inside JSON strings, so the JSON
// means the same), so no prompt can close the element.
std::string JsonForScript(absl::string_view json);

// Text safe in HTML content and quoted attributes.
std::string HtmlEscape(absl::string_view text);

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_MANIFEST_GALLERY_H_
