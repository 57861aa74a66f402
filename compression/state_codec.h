// Encoding a whole flat model state (or update) with a Pipeline, tensor by tensor.
//
// Payload: pipeline descriptor, then the body — varint tensor count, per tensor varint
// numel + the tensor's encoding — zstd-compressed as a whole when the pipeline ends in
// zstd (varint raw size, varint compressed size, zstd frame). The decoder rebuilds the
// pipeline from the descriptor (checked against the frame's codec ids) and checks tensor
// count and sizes against the layout it expects, so an update built for a different
// structure is rejected, not misread. Decompressed sizes are capped by the layout.
#pragma once

#include <vector>

#include "compression/pipeline.h"
#include "core/state_layout.h"

namespace xfed::compression {

// `reconstructed` (layout.total floats, may be null) receives what the receiver decodes.
Status encode_state(const StateLayout& layout, const float* values, const Pipeline& pipeline,
                    uint64_t seed, Bytes* out, float* reconstructed = nullptr);

// Decodes into out[0..layout.total); the state must end the reader.
Status decode_state(ByteReader& r, const StateLayout& layout, const std::vector<CodecId>& frame_ids,
                    float* out);
// The same for one of several states in a row: the reader is left after it.
Status decode_next_state(ByteReader& r, const StateLayout& layout,
                         const std::vector<CodecId>& frame_ids, float* out);

}  // namespace xfed::compression
