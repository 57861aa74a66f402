#include "compression/state_codec.h"

#include <string>

#include "compression/zstd_codec.h"
#include "core/rng.h"

namespace xfed::compression {
namespace {

// No valid body is larger: dense fp32 is 4 bytes a value, the worst sparse coding 9.
size_t max_body_bytes(const StateLayout& layout) {
  return 16 * static_cast<size_t>(layout.total) + 64 * layout.slots.size() + 1024;
}

Status encode_body(const StateLayout& layout, const float* values, const Pipeline& pipeline,
                   uint64_t seed, Bytes* out, float* recon) {
  ByteWriter w(out);
  w.put_varint(layout.slots.size());
  for (size_t i = 0; i < layout.slots.size(); ++i) {
    const auto& slot = layout.slots[i];
    w.put_varint(static_cast<uint64_t>(slot.numel));
    auto st = pipeline.encode_tensor(values + slot.offset, slot.numel, splitmix64(seed ^ i), out,
                                     recon ? recon + slot.offset : nullptr);
    if (!st) return st.prefixed("tensor " + slot.name);
  }
  return Status::ok();
}

Status decode_body(ByteReader& r, const StateLayout& layout, const Pipeline& pipeline, float* out,
                   bool to_the_end) {
  uint64_t count;
  if (!r.get_varint(&count)) return Status::corruption("truncated state header");
  if (count != layout.slots.size())
    return Status::corruption("state has " + std::to_string(count) + " tensors, expected " +
                         std::to_string(layout.slots.size()));
  for (const auto& slot : layout.slots) {
    uint64_t numel;
    if (!r.get_varint(&numel)) return Status::corruption("truncated state at tensor " + slot.name);
    if (numel != static_cast<uint64_t>(slot.numel))
      return Status::corruption("tensor " + slot.name + " has " + std::to_string(numel) +
                           " values, expected " + std::to_string(slot.numel));
    if (auto st = pipeline.decode_tensor(r, slot.numel, out + slot.offset); !st)
      return st.prefixed("tensor " + slot.name);
  }
  if (to_the_end && !r.done()) return Status::corruption("trailing bytes after the state");
  return Status::ok();
}

Status decode_one(ByteReader& r, const StateLayout& layout, const std::vector<CodecId>& frame_ids,
                  float* out, bool to_the_end) {
  auto pipeline = Pipeline::read_descriptor(r, frame_ids);
  if (!pipeline) return pipeline.status();
  const auto& p = pipeline.value();
  if (p.zstd_level() == 0) return decode_body(r, layout, p, out, to_the_end);
  uint64_t raw, packed;
  if (!r.get_varint(&raw) || !r.get_varint(&packed) || packed > r.remaining())
    return Status::corruption("truncated zstd block");
  if (raw > max_body_bytes(layout))
    return Status::corruption("zstd block claims " + std::to_string(raw) + " bytes, more than any valid state");
  auto body = zstd_decompress(r.take(packed), packed, raw);
  if (!body) return body.status();
  ByteReader br(body.value());
  if (auto st = decode_body(br, layout, p, out, true); !st) return st;
  if (to_the_end && !r.done()) return Status::corruption("trailing bytes after the state");
  return Status::ok();
}

}  // namespace

Status encode_state(const StateLayout& layout, const float* values, const Pipeline& pipeline,
                    uint64_t seed, Bytes* out, float* recon) {
  ByteWriter w(out);
  pipeline.write_descriptor(w);
  if (pipeline.zstd_level() == 0) return encode_body(layout, values, pipeline, seed, out, recon);
  Bytes body;
  if (auto st = encode_body(layout, values, pipeline, seed, &body, recon); !st) return st;
  const Bytes packed = zstd_compress(body.data(), body.size(), pipeline.zstd_level());
  w.put_varint(body.size());
  w.put_varint(packed.size());
  w.put_bytes(packed.data(), packed.size());
  return Status::ok();
}

Status decode_state(ByteReader& r, const StateLayout& layout, const std::vector<CodecId>& frame_ids,
                    float* out) {
  return decode_one(r, layout, frame_ids, out, true);
}

Status decode_next_state(ByteReader& r, const StateLayout& layout,
                         const std::vector<CodecId>& frame_ids, float* out) {
  return decode_one(r, layout, frame_ids, out, false);
}

}  // namespace xfed::compression
