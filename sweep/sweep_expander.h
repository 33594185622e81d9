#ifndef REELFARM_SWEEP_SWEEP_EXPANDER_H_
#define REELFARM_SWEEP_SWEEP_EXPANDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sweep/render_fields.h"
#include "reelfarm/v1/sweep.pb.h"

namespace reelfarm {

// Turns a SweepSpec into its jobs without materializing them: job `i` is
// computed on demand, so a million-job sweep costs only what the caller keeps.
// Order: blocks in order; inside a block, the first group is the outermost
// loop and the last group the innermost.
class SweepExpander {
 public:
  // Checks every axis names a known field, every value fits it, and the axes
  // of a group have equal lengths.
  static absl::StatusOr<SweepExpander> Create(const v1::SweepSpec& spec);

  uint64_t size() const { return total_; }

  // The render parameters of job `index` (< size()) and its block's index.
  void ParamsAt(uint64_t index, v1::RenderParams* params,
                int* block_index) const;

  std::string JobIdAt(uint64_t index) const;

  // The full job, ready to lease. `known_id`, when not empty, is the job's
  // id already computed by JobIdAt, saving a hash.
  v1::Job JobAt(uint64_t index, absl::string_view sweep_id,
                absl::string_view known_id = {}) const;

  const v1::SweepSpec& spec() const { return *spec_; }

 private:
  using ApplyFn = decltype(RenderField::apply);
  struct Group {
    std::vector<const v1::Axis*> axes;
    std::vector<ApplyFn> apply;  // one per axis
    uint64_t size = 0;
  };
  struct Block {
    const v1::SweepBlock* block = nullptr;
    std::vector<Group> groups;
    uint64_t first = 0;  // index of the block's first job
    uint64_t size = 0;
  };

  explicit SweepExpander(std::shared_ptr<const v1::SweepSpec> spec)
      : spec_(std::move(spec)) {}

  // Shared so copies of an expander stay cheap and valid.
  std::shared_ptr<const v1::SweepSpec> spec_;
  std::vector<Block> blocks_;
  uint64_t total_ = 0;
};

}  // namespace reelfarm

#endif  // REELFARM_SWEEP_SWEEP_EXPANDER_H_
