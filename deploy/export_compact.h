// From a trained model's weights to a compact model (#20, `xfed export`): per layer, the
// weights optionally shared (Deep Compression's k-means: 2^bits values per layer, exact
// zeros kept out of the clustering and zero), then stored in the format asked for, or with
// `auto` in whichever of dense, CSR, CER and CSER makes the layer's file bytes smallest
// (ties: the earlier of that list). Biases stay float32, unshared. Torch-free: the caller
// passes the model's state as named float arrays (LibTorch's names: "conv1.weight").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "deploy/compact_model.h"

namespace xfed::deploy {

struct ExportOptions {
  std::optional<MatrixFormat> format;  // none: auto
  int bits = 0;                        // 0: keep the weights as they are; else share 2^bits values (1..16)
};

using NamedArrays = std::map<std::string, std::vector<float>>;

// An error names the missing or wrongly sized tensor, a value that is not finite, or a spec
// that has no compact chain.
Result<CompactModel> build_compact(const ModelSpec& spec, const NamedArrays& state, const ExportOptions& options);

// "auto" (none), "dense", "csr", "cer", "cser"; anything else a usage error listing them.
Result<std::optional<MatrixFormat>> parse_format(const std::string& text);

// What `xfed export` prints for a layer.
struct LayerSummary {
  std::string name, format;
  int64_t rows = 0, cols = 0;
  size_t bytes = 0;             // in the file
  int64_t distinct = 0;         // distinct weight values (zero included)
  int64_t nonzero = 0;          // weights that are not zero
  double entropy_bits = 0;      // per weight, of the weights' value distribution
  compression::Operations ops;  // one inference, in the layer's format
  int64_t csr_multiplications = 0;  // the same layer in CSR, for comparison
};
LayerSummary summarize(const CompactLayer& layer);

}  // namespace xfed::deploy
