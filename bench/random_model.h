#ifndef REELFARM_BENCH_RANDOM_MODEL_H_
#define REELFARM_BENCH_RANDOM_MODEL_H_

#include "node/pipeline/animatediff/model_bundle.h"

namespace reelfarm::pipeline {

// A mid-size SD 1.5-shaped model with random weights (a quarter of the real
// widths) for timing and memory benchmarks: big enough that the UNet
// dominates, small enough for a laptop CPU. The tokenizer and scheduler
// come from `fixture`, which gives them up.
ModelBundle RandomMidSizeModel(ModelBundle& fixture, int text_layers);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_BENCH_RANDOM_MODEL_H_
