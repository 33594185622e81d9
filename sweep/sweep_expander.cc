#include "sweep/sweep_expander.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "sweep/job_id.h"

namespace reelfarm {
namespace {

absl::Status AxisError(const v1::SweepBlock& block, const v1::Axis& axis,
                       absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(block.source_location().empty()
                       ? ""
                       : absl::StrCat(block.source_location(), ": "),
                   "axis '", axis.field(), "': ", message));
}

}  // namespace

absl::StatusOr<SweepExpander> SweepExpander::Create(const v1::SweepSpec& spec) {
  SweepExpander ex(std::make_shared<const v1::SweepSpec>(spec));
  for (const v1::SweepBlock& block : ex.spec_->blocks()) {
    Block b;
    b.block = &block;
    b.first = ex.total_;
    b.size = 1;
    for (const v1::AxisGroup& group : block.groups()) {
      Group g;
      for (const v1::Axis& axis : group.axes()) {
        const RenderField* field = FindRenderField(axis.field());
        if (field == nullptr) return AxisError(block, axis, "unknown field");
        if (axis.values_size() == 0) return AxisError(block, axis, "no values");
        if (!g.axes.empty() &&
            static_cast<uint64_t>(axis.values_size()) != g.size) {
          return AxisError(
              block, axis,
              absl::StrCat("has ", axis.values_size(), " values but '",
                           g.axes.front()->field(), "', zipped with it, has ",
                           g.size));
        }
        v1::RenderParams probe = block.base();
        for (const v1::AxisValue& value : axis.values()) {
          absl::Status st = field->apply(value, &probe);
          if (!st.ok()) return AxisError(block, axis, st.message());
        }
        g.axes.push_back(&axis);
        g.apply.push_back(field->apply);
        g.size = axis.values_size();
      }
      if (g.axes.empty()) continue;
      if (b.size > std::numeric_limits<uint64_t>::max() / g.size) {
        return absl::InvalidArgumentError(
            absl::StrCat("block '", block.name(), "' has too many jobs"));
      }
      b.size *= g.size;
      b.groups.push_back(std::move(g));
    }
    if (ex.total_ > std::numeric_limits<uint64_t>::max() - b.size) {
      return absl::InvalidArgumentError("sweep has too many jobs");
    }
    ex.total_ += b.size;
    ex.blocks_.push_back(std::move(b));
  }
  return ex;
}

void SweepExpander::ParamsAt(uint64_t index, v1::RenderParams* params,
                             int* block_index) const {
  // Blocks are few; a linear scan keeps this simple.
  size_t bi = 0;
  while (bi + 1 < blocks_.size() &&
         index >= blocks_[bi].first + blocks_[bi].size) {
    ++bi;
  }
  const Block& b = blocks_[bi];
  *params = b.block->base();
  uint64_t rest = index - b.first;
  // Mixed radix, last group fastest.
  for (size_t gi = b.groups.size(); gi-- > 0;) {
    const Group& g = b.groups[gi];
    const int pick = static_cast<int>(rest % g.size);
    rest /= g.size;
    for (size_t ai = 0; ai < g.axes.size(); ++ai) {
      // Values were checked in Create, so applying cannot fail here.
      g.apply[ai](g.axes[ai]->values(pick), params).IgnoreError();
    }
  }
  if (block_index != nullptr) *block_index = static_cast<int>(bi);
}

std::string SweepExpander::JobIdAt(uint64_t index) const {
  v1::RenderParams params;
  ParamsAt(index, &params, nullptr);
  return JobIdFor(params, spec_->renderer().name());
}

v1::Job SweepExpander::JobAt(uint64_t index, absl::string_view sweep_id,
                             absl::string_view known_id) const {
  v1::Job job;
  int block_index = 0;
  ParamsAt(index, job.mutable_params(), &block_index);
  job.set_id(known_id.empty() ? JobIdFor(job.params(), spec_->renderer().name())
                              : std::string(known_id));
  job.set_sweep_id(std::string(sweep_id));
  job.set_index(index);
  job.set_block(blocks_[block_index].block->name());
  job.set_output_dir(spec_->output_dir());
  job.set_output_name(JobOutputName(job.params(), job.id()));
  *job.mutable_formats() = spec_->formats();
  *job.mutable_renderer() = spec_->renderer();
  *job.mutable_video() = spec_->video();
  return job;
}

}  // namespace reelfarm
