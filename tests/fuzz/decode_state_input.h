// The input of the compressed-state fuzz targets (fuzz_pipeline, fuzz_ternary): u8 K, K
// codec ids (what the frame header claims), two u16 tensor sizes, then the payload, which
// is decoded against a two-tensor layout of those sizes.
#pragma once

#include <vector>

#include "compression/state_codec.h"

namespace xfed::fuzzing {

inline void decode_state_input(const uint8_t* data, size_t size) {
  ByteReader r(data, size);
  uint8_t k;
  if (!r.get_u8(&k) || k > 4) return;
  std::vector<compression::CodecId> ids;
  for (uint8_t i = 0; i < k; ++i) {
    uint8_t id;
    if (!r.get_u8(&id)) return;
    ids.push_back(static_cast<compression::CodecId>(id));
  }
  uint16_t a, b;
  if (!r.get_u16(&a) || !r.get_u16(&b)) return;
  StateLayout layout;
  layout.add("w", {int64_t{a % 4096} + 1}, false);
  layout.add("b", {int64_t{b % 512}}, false);
  std::vector<float> out(static_cast<size_t>(layout.total));
  (void)compression::decode_state(r, layout, ids, out.data());
}

}  // namespace xfed::fuzzing
