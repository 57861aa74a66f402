#include "compression/state_codec.h"

#include <string>

#include "core/rng.h"

namespace xfed::compression {

void encode_state(const StateLayout& layout, const float* values, const Pipeline& pipeline,
                  uint64_t seed, Bytes* out, float* reconstructed) {
  ByteWriter w(out);
  w.put_varint(layout.slots.size());
  for (size_t i = 0; i < layout.slots.size(); ++i) {
    const auto& slot = layout.slots[i];
    w.put_varint(static_cast<uint64_t>(slot.numel));
    pipeline.encode(values + slot.offset, slot.numel, splitmix64(seed ^ i), out,
                    reconstructed ? reconstructed + slot.offset : nullptr);
  }
}

Status decode_state(ByteReader& r, const StateLayout& layout, const Pipeline& pipeline,
                    float* out) {
  uint64_t count;
  if (!r.get_varint(&count)) return Status::error("truncated state header");
  if (count != layout.slots.size())
    return Status::error("state has " + std::to_string(count) + " tensors, expected " +
                         std::to_string(layout.slots.size()));
  for (const auto& slot : layout.slots) {
    uint64_t numel;
    if (!r.get_varint(&numel)) return Status::error("truncated state at tensor " + slot.name);
    if (numel != static_cast<uint64_t>(slot.numel))
      return Status::error("tensor " + slot.name + " has " + std::to_string(numel) +
                           " values, expected " + std::to_string(slot.numel));
    if (auto st = pipeline.decode(r, slot.numel, out + slot.offset); !st)
      return st.prefixed("tensor " + slot.name);
  }
  return Status::ok();
}

}  // namespace xfed::compression
