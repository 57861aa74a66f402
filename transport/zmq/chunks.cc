#include "transport/zmq/chunks.h"

#include <algorithm>

namespace xfed::transport {

Bytes make_chunk(const Bytes& frame, size_t offset) {
  const size_t n = std::min(kChunkBytes, frame.size() - offset);
  Bytes chunk;
  chunk.reserve(kChunkHeaderBytes + n);
  ByteWriter w(&chunk);
  w.put_u64(frame.size());
  w.put_u64(offset);
  w.put_u32(crc32_of(frame.data() + offset, n));
  w.put_bytes(frame.data() + offset, n);
  return chunk;
}

Result<std::optional<Bytes>> ChunkAssembler::add(const Bytes& chunk) {
  ByteReader r(chunk.data(), chunk.size());
  uint64_t total = 0, offset = 0;
  uint32_t crc = 0;
  const size_t n = chunk.size() >= kChunkHeaderBytes ? chunk.size() - kChunkHeaderBytes : 0;
  const uint8_t* data = chunk.data() + std::min(chunk.size(), kChunkHeaderBytes);
  if (chunk.size() >= kChunkHeaderBytes && filled_ != 0) {  // a new frame begins: the partial one is abandoned
    uint64_t at = 0;
    ByteReader peek(chunk.data() + 8, 8);
    if (peek.get_u64(&at) && at == 0) {
      ++abandoned_;
      frame_ = Bytes();
      filled_ = 0;
    }
  }
  const bool valid = r.get_u64(&total) && r.get_u64(&offset) && r.get_u32(&crc) && n > 0 &&
                     total <= max_frame_bytes_ && offset == filled_ && offset + n <= total &&
                     (filled_ == 0 || total_ == total) && crc32_of(data, n) == crc;
  if (!valid) {
    frame_ = Bytes();
    filled_ = 0;
    return Status::corruption("a chunk that does not continue its frame, or fails its CRC (the frame is dropped)");
  }
  total_ = total;
  // Grown by what arrived, never by what a header declares: a peer's claim costs no memory.
  frame_.insert(frame_.end(), data, data + n);
  filled_ += n;
  if (filled_ < total) return std::optional<Bytes>();
  filled_ = 0;
  Bytes whole = std::move(frame_);
  frame_ = Bytes();
  return std::optional<Bytes>(std::move(whole));
}

}  // namespace xfed::transport
