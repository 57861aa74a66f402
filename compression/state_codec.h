// Encoding a whole flat model state (or update) with a Pipeline, tensor by tensor.
//
// Payload: varint tensor count, then per tensor: varint numel, pipeline encoding. The
// receiver checks count and sizes against the layout it expects, so an update built for a
// different structure is rejected, not misread.
#pragma once

#include "compression/pipeline.h"
#include "core/state_layout.h"

namespace xfed::compression {

void encode_state(const StateLayout& layout, const float* values, const Pipeline& pipeline,
                  uint64_t seed, Bytes* out, float* reconstructed = nullptr);

// Decodes into out[0..layout.total).
Status decode_state(ByteReader& r, const StateLayout& layout, const Pipeline& pipeline,
                    float* out);

}  // namespace xfed::compression
