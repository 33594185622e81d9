#ifndef REELFARM_SWEEP_ANIMATEDIFF_FORMAT_H_
#define REELFARM_SWEEP_ANIMATEDIFF_FORMAT_H_

// AnimateDiff's prompt configs (configs/prompts/**), read as animate.py
// reads them. Two layouts:
//   current (v2 after Dec 2023, v3): a top-level list of entries;
//   v1/v2 (Jul-Dec 2023): a top-level map of entry name -> entry.
// Each entry becomes one SweepBlock (named by its map key or list index)
// whose base carries the entry's scalars and whose groups are
//   [motion_module]            when motion_module is a list of 2 or more
//                              (v1/v2 looped over it: outermost axis);
//   [prompt, n_prompt, seed]   zipped, as animate.py zips them.
// Pairing: n_prompt and seed lists of one element repeat to the prompt
// count, an int seed is a one-element list, a missing seed is [-1], and -1
// draws a seed (recorded); any other length mismatch is an error (animate.py
// silently truncated). A missing n_prompt means "" (animate.py required it).
// Keys (see FORMAT.md for the full table):
//   render: prompt n_prompt seed steps guidance_scale W H L (+ scheduler,
//     a reelfarm extension; default ddim); steps, guidance_scale and prompt
//     are required; W/H/L fall back to --W/--H/--L, then 512/512/16;
//   models: dreambooth_path lora_model_path lora_alpha motion_module
//     motion_module_lora_configs adapter_lora_path adapter_lora_scale
//     inference_config (+ pretrained_model_path, a reelfarm extension that
//     overrides --pretrained-model-path for the entry);
//   v1 (Jul-Sep 2023): base/path. path "" = no DreamBooth; path with base ""
//     = path is the DreamBooth checkpoint; path with base set = base is the
//     DreamBooth checkpoint and path a LoRA on it (animate.py decided by
//     reading the file; every shipped config follows this rule);
//   accepted and ignored: domain_lora_scale (an early spelling animate.py
//     never read; warned when not 1.0), random_seed (what animate.py writes
//     back into its saved config.yaml; used as the seed list when seed is
//     absent, so a saved run renders again with the same seeds);
//   SparseCtrl (controlnet_path controlnet_config controlnet_images
//     controlnet_image_indexs normalize_condition_images): accepted, not
//     rendered; a located warning goes into SweepSpec.warnings.
// Relative model paths resolve against the cwd, as in animate.py.

#include "absl/status/status.h"
#include "sweep/load_context.h"
#include "yaml-cpp/yaml.h"

namespace reelfarm::config {

// Whether a top-level map looks like AnimateDiff's v1/v2 layout: some value
// is a map holding an AnimateDiff entry key (prompt, motion_module, ...).
bool LooksLikeAnimateDiffMap(const YAML::Node& root);

// Fills ctx.spec (name, output, renderer, blocks, warnings) from an
// AnimateDiff config of either layout. ctx.spec->name() must be set.
absl::Status ReadAnimateDiffConfig(const YAML::Node& root, LoadContext& ctx);

}  // namespace reelfarm::config

#endif  // REELFARM_SWEEP_ANIMATEDIFF_FORMAT_H_
