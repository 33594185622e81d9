#ifndef REELFARM_TESTS_PIPELINE_FIXTURES_H_
#define REELFARM_TESTS_PIPELINE_FIXTURES_H_

#include <gtest/gtest.h>
#include <torch/types.h>

#include <memory>
#include <string>

#include "nlohmann/json.hpp"
#include "node/pipeline/animatediff/model_bundle.h"
#include "node/pipeline/weights/tensor_map.h"

namespace reelfarm::pipeline::testing {

// The animatediff-tiny fixtures: $REELFARM_FIXTURES, else the copy of
// shared/ beside the checkout. Missing fixtures fail the test loudly.
std::string FixturesDir();
std::string FixturePath(const std::string& relative);

// The fixtures' tiny pipeline with its motion adapter; null (and a failed
// expectation) when it does not load.
std::unique_ptr<ModelBundle> LoadFixtureModels();

// Same dtype, shape and bytes.
bool BitwiseEqual(const torch::Tensor& a, const torch::Tensor& b);

// reference/<name>.safetensors and reference/<name>.json.
TensorMap LoadReferenceTensors(const std::string& name);
nlohmann::json LoadReferenceJson(const std::string& name);

// The fixtures' metrics: rel_l2 = ||out - ref|| / ||ref||, and
// max_abs = max|out - ref| against tol * max(1, max|ref|).
struct Closeness {
  double rel_l2 = 0;
  double max_abs = 0;
  double max_ref = 0;
};
Closeness Compare(const torch::Tensor& out, const torch::Tensor& ref);

// Passes when out matches ref within the two tolerances of VERIFY.md.
::testing::AssertionResult IsClose(const torch::Tensor& out,
                                   const torch::Tensor& ref, double rel_l2,
                                   double max_abs_tol);

}  // namespace reelfarm::pipeline::testing

#endif  // REELFARM_TESTS_PIPELINE_FIXTURES_H_
