// StateLayout: how a model's trainable state is laid out as one flat float32 vector.
//
// The engine moves, compresses and aggregates model state as a single flat vector; the
// layout says which range is which tensor: parameters first, then floating-point buffers
// (BN running mean/var), in module registration order. Buffers are averaged, never fed to
// an adaptive server optimizer. Plain data, no torch; equal specs give equal layouts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xfed {

struct TensorSlot {
  std::string name;
  std::vector<int64_t> shape;
  int64_t offset = 0;
  int64_t numel = 0;
  bool is_buffer = false;
};

struct StateLayout {
  std::vector<TensorSlot> slots;
  int64_t total = 0;  // sum of numel

  void add(std::string name, std::vector<int64_t> shape, bool is_buffer);
  bool same_shapes(const StateLayout& o) const;
  int64_t param_count() const;  // numel of non-buffer slots
};

}  // namespace xfed
