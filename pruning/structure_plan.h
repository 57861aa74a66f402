// StructurePlan: one pruning decision, applied identically by every party. It names the
// structure version and model spec it applies to and, per prunable layer (in
// prunable_layers() order), the kept unit indices (sorted, distinct, at least one).
// Sent as a plan frame; read back with every index checked against the spec.
#pragma once

#include <cstdint>
#include <vector>

#include "core/coding.h"
#include "core/model_spec.h"
#include "core/status.h"

namespace xfed::pruning {

struct StructurePlan {
  int64_t version = 0;  // the structure version this plan produces (from = version - 1)
  ModelSpec from;
  std::vector<std::vector<int64_t>> kept;

  void write(ByteWriter& w) const;
  static Result<StructurePlan> read(ByteReader& r);
  // Checks layer count and every index against the layer sizes of `from`.
  Status validate(const std::vector<int64_t>& layer_units) const;
  int64_t kept_units() const;
};

// Per layer, ascending unit indices (a plan's kept units, or the kept units in the original
// numbering in a checkpoint), gap-coded. Reading checks the counts, not the ranges.
void write_index_lists(ByteWriter& w, const std::vector<std::vector<int64_t>>& lists);
Status read_index_lists(ByteReader& r, std::vector<std::vector<int64_t>>* lists);

}  // namespace xfed::pruning
