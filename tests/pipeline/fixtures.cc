#include "tests/pipeline/fixtures.h"

#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "node/pipeline/weights/safetensors.h"

namespace reelfarm::pipeline::testing {

std::string FixturesDir() {
  const char* env = std::getenv("REELFARM_FIXTURES");
  return env != nullptr && *env != '\0' ? env : REELFARM_DEFAULT_FIXTURES;
}

std::string FixturePath(const std::string& relative) {
  return FixturesDir() + "/" + relative;
}

std::unique_ptr<ModelBundle> LoadFixtureModels() {
  ModelSources sources;
  sources.base = FixturePath("pipeline");
  sources.motion_module = FixturePath("motion_adapter");
  auto models = LoadModelBundle(sources);
  EXPECT_TRUE(models.ok()) << models.status();
  return models.ok() ? *std::move(models) : nullptr;
}

bool BitwiseEqual(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) {
    return false;
  }
  const torch::Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.data_ptr(), y.data_ptr(),
                     x.numel() * x.element_size()) == 0;
}

TensorMap LoadReferenceTensors(const std::string& name) {
  auto tensors =
      LoadSafetensors(FixturePath("reference/" + name + ".safetensors"));
  if (!tensors.ok()) {
    ADD_FAILURE() << "fixtures missing or unreadable (set REELFARM_FIXTURES): "
                  << tensors.status();
    return {};
  }
  return *std::move(tensors);
}

nlohmann::json LoadReferenceJson(const std::string& name) {
  std::ifstream in(FixturePath("reference/" + name + ".json"));
  if (!in) {
    ADD_FAILURE() << "cannot read "
                  << FixturePath("reference/" + name + ".json");
    return nlohmann::json();
  }
  return nlohmann::json::parse(in);
}

Closeness Compare(const torch::Tensor& out, const torch::Tensor& ref) {
  const torch::Tensor o = out.to(torch::kFloat64).reshape({-1});
  const torch::Tensor r = ref.to(torch::kFloat64).reshape({-1});
  Closeness c;
  c.max_ref = r.abs().max().item<double>();
  const double ref_norm = r.norm().item<double>();
  c.rel_l2 = (o - r).norm().item<double>() / (ref_norm > 0 ? ref_norm : 1.0);
  c.max_abs = (o - r).abs().max().item<double>();
  return c;
}

::testing::AssertionResult IsClose(const torch::Tensor& out,
                                   const torch::Tensor& ref, double rel_l2,
                                   double max_abs_tol) {
  if (out.sizes() != ref.sizes()) {
    return ::testing::AssertionFailure()
           << "shape " << out.sizes() << " != reference " << ref.sizes();
  }
  const Closeness c = Compare(out, ref);
  const double limit = max_abs_tol * std::max(1.0, c.max_ref);
  if (c.rel_l2 <= rel_l2 && c.max_abs <= limit) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "rel_l2 " << c.rel_l2 << " (limit " << rel_l2 << "), max_abs "
         << c.max_abs << " (limit " << limit << ")";
}

}  // namespace reelfarm::pipeline::testing
