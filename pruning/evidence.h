// Evidence: what one stats round gathers for scoring, additive across clients.
//   taps[t]          class statistics of tap t (absent: this client did not send it, e.g.
//                    the input layer, whose statistics each client uploads only once)
//   taylor_sums[t]   sum over samples of activation x dLoss/dactivation per unit (taylor)
// Wire format (stats frames): varint taps, per tap u8 present + ClassStats; u8 has_taylor,
// then per tap varint units + float64 sums, and the float64 sample count.
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>
#include <vector>

#include "core/coding.h"
#include "core/status.h"
#include "pruning/class_stats.h"

namespace xfed::pruning {

struct Evidence {
  std::vector<std::optional<ClassStats>> taps;
  std::vector<at::Tensor> taylor_sums;  // float64 [units] per tap; empty if not gathered
  double taylor_samples = 0;

  // Adds another client's evidence (same tap count and shapes).
  Status add(const Evidence& other);
  void write(ByteWriter& w) const;
  // tap_units[t]: units of tap t in the current model; classes: dataset classes.
  static Result<Evidence> read(ByteReader& r, const std::vector<int64_t>& tap_units, int64_t classes);
};

}  // namespace xfed::pruning
