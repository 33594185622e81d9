#ifndef REELFARM_SWEEP_REELFARM_FORMAT_H_
#define REELFARM_SWEEP_REELFARM_FORMAT_H_

// reelfarm's own sweep form: one map, one SweepBlock. FORMAT.md has the
// reference; in short:
//
//   name: demo              # default: the config file's stem
//   output: outputs/demo    # default: outputs/<name>; relative to the cwd;
//                           #   --out overrides
//   renderer: animatediff   # default; or test-pattern, or
//                           #   {name: test-pattern, ms_per_job: 50,
//                           #    load_ms: 2000 (once per lane)};
//                           #   --renderer overrides the name
//   formats: [frames, gif, mp4]   # the default (mp4 when ffmpeg is found)
//   video: {fps: 8, gif_dither: true, mp4_crf: 18}   # the defaults
//   gallery: {rows: prompt, columns: seed}           # the defaults
//   max_attempts: 3         # default: the coordinator's
//   sharding: {jobs_per_shard: 1, group_by_models: true}   # the defaults
//   model:                  # one value each; paths relative to this file
//     pretrained_model_path: models/sd15     # required for animatediff
//     motion_module: models/mm.ckpt          #   (or --pretrained-model-path)
//     dreambooth_path / inference_config / lora_model_path / lora_alpha /
//     motion_module_lora_configs / adapter_lora_path / adapter_lora_scale
//   defaults:               # one value each
//     prompt / n_prompt / seed / W / H / L / steps / guidance_scale /
//     scheduler
//   grid:                   # each key one axis; cartesian product, the
//     prompt: [a, b]        #   first key the outermost loop
//     seed: {range: [0, 10]}                   # 0..9 (stop excluded)
//     guidance_scale: {from: 5, to: 9, step: 1}  # 5..9 (both included)
//   zip:                    # axes that advance together (equal lengths);
//     prompt: [...]         #   one group after (inside) the grid axes;
//     n_prompt: [...]       #   a list of such maps gives several groups
//
// Rules:
//   * a field is set in exactly one of model, defaults, grid and zip; a
//     second place is an error (nothing is silently overridden);
//   * grid and zip take any render field, model paths included
//     (motion_module, dreambooth_path, ...), as lists or ranges (see
//     axis_values.h); lora_alpha may be swept only with lora_model_path
//     under model;
//   * required after defaults and flags: prompt, steps, guidance_scale;
//     W/H/L fall back to --W/--H/--L, then 512/512/16; scheduler to ddim;
//     a missing seed is -1: one seed drawn for the sweep and recorded;
//   * values are checked one by one, each with its own line:column.
//
// Detection (sweep_loader.cc): a top-level map holding any key of this form
// (name, output, renderer, formats, video, gallery, max_attempts, sharding,
// model, defaults, grid, zip) is this form.

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "sweep/load_context.h"
#include "yaml-cpp/yaml.h"

namespace reelfarm::config {

const std::vector<absl::string_view>& ReelfarmTopLevelKeys();
bool IsReelfarmTopLevelKey(absl::string_view key);

// Fills ctx.spec from a config in reelfarm's form. ctx.spec->name() holds
// the file's stem, used unless the config names the sweep.
absl::Status ReadReelfarmConfig(const YAML::Node& root, LoadContext& ctx);

}  // namespace reelfarm::config

#endif  // REELFARM_SWEEP_REELFARM_FORMAT_H_
