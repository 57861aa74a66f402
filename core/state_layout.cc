#include "core/state_layout.h"

namespace xfed {

void StateLayout::add(std::string name, std::vector<int64_t> shape, bool is_buffer) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  slots.push_back(TensorSlot{std::move(name), std::move(shape), total, n, is_buffer});
  total += n;
}

bool StateLayout::same_shapes(const StateLayout& o) const {
  if (slots.size() != o.slots.size()) return false;
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i].shape != o.slots[i].shape) return false;
  return true;
}

int64_t StateLayout::param_count() const {
  int64_t n = 0;
  for (const auto& s : slots)
    if (!s.is_buffer) n += s.numel;
  return n;
}

}  // namespace xfed
