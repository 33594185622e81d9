#ifndef REELFARM_TESTS_COORDINATOR_TEST_SPECS_H_
#define REELFARM_TESTS_COORDINATOR_TEST_SPECS_H_

#include <string>

#include "reelfarm/v1/sweep.pb.h"

namespace reelfarm::testing_specs {

// A test-pattern sweep of `prompts` x `seeds` jobs, built directly as a spec
// (the YAML loader has its own tests).
inline v1::SweepSpec GridSpec(int prompts, int seeds,
                              const std::string& output_dir,
                              uint32_t jobs_per_shard = 1) {
  v1::SweepSpec spec;
  spec.set_name("grid");
  spec.set_output_dir(output_dir);
  spec.mutable_renderer()->set_name("test-pattern");
  spec.add_formats("frames");
  spec.mutable_sharding()->set_jobs_per_shard(jobs_per_shard);
  v1::SweepBlock* block = spec.add_blocks();
  block->set_name("0");
  v1::RenderParams* base = block->mutable_base();
  base->set_width(16);
  base->set_height(16);
  base->set_frames(2);
  base->set_steps(1);
  base->set_guidance_scale(7.5);
  v1::Axis* prompt = block->add_groups()->add_axes();
  prompt->set_field("prompt");
  for (int i = 0; i < prompts; ++i) {
    prompt->add_values()->set_text("prompt " + std::to_string(i));
  }
  v1::Axis* seed = block->add_groups()->add_axes();
  seed->set_field("seed");
  for (int i = 0; i < seeds; ++i) {
    seed->add_values()->set_unsigned_integer(1000 + i);
  }
  return spec;
}

}  // namespace reelfarm::testing_specs

#endif  // REELFARM_TESTS_COORDINATOR_TEST_SPECS_H_
