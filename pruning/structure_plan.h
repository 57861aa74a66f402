// StructurePlan: one pruning decision, applied identically by every party. It names the
// structure version and model spec it applies to and, per prunable layer (in
// prunable_layers() order), the kept unit indices (sorted, distinct, at least one).
// It may carry refitted weights (compensation, pruning/refit.h): the whole new value of some
// tensors of the slim model, written over them after slicing, so that every party holds the
// same bits. Sent as a plan frame; read back with every index checked against the spec.
// Wire format (only ever added to): varint version, spec JSON, index lists, then — absent in
// plans without refit — varint patch count, per patch the tensor name, varint n, n float32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/coding.h"
#include "core/model_spec.h"
#include "core/status.h"

namespace xfed::pruning {

// The new value of one tensor (parameter or buffer) of the slim model, in its layout.
struct TensorPatch {
  std::string tensor;
  std::vector<float> values;
};

struct StructurePlan {
  int64_t version = 0;  // the structure version this plan produces (from = version - 1)
  ModelSpec from;
  std::vector<std::vector<int64_t>> kept;
  std::vector<TensorPatch> patches;  // refitted tensors of the slim model (may be empty)

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
