// Chunks: how the edge transport moves a frame larger than kChunkBytes. Each chunk is
//   u64 total frame size, u64 offset, u32 CRC-32 of the chunk's bytes, the bytes
// and a peer sends the chunks of one frame in order before the next frame, so the receiver
// needs one ChunkAssembler per peer. A chunk that does not continue the frame (offset, total,
// size above the cap) or fails its CRC drops the partial frame with an error: bytes from a
// peer are outside input, and a partial frame is never delivered. A chunk at offset 0 always
// starts a new frame: a partial one left by a peer that reconnected or restarted is
// abandoned (counted), so the frame after an interruption is never lost. Memory grows with
// the bytes that arrived, never with the size a header declares. Pure; no zmq.
#pragma once

#include <cstdint>
#include <optional>

#include "core/coding.h"
#include "core/status.h"

namespace xfed::transport {

constexpr size_t kChunkBytes = size_t{1} << 20;
constexpr size_t kChunkHeaderBytes = 8 + 8 + 4;

// The chunk of `frame` starting at `offset` (at most kChunkBytes of it).
Bytes make_chunk(const Bytes& frame, size_t offset);

class ChunkAssembler {
 public:
  explicit ChunkAssembler(uint64_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}
  // The whole frame when `chunk` completes it; nullopt while more are due; an error (the
  // partial frame dropped) for a chunk that does not belong.
  Result<std::optional<Bytes>> add(const Bytes& chunk);
  // Partial frames dropped because a new frame began before they were complete.
  int64_t abandoned() const { return abandoned_; }
  // Memory the partial frame holds (at most twice the bytes that arrived for it).
  size_t held_bytes() const { return frame_.capacity(); }

 private:
  uint64_t max_frame_bytes_;
  Bytes frame_;  // the chunks so far (its size: filled_)
  size_t filled_ = 0;
  uint64_t total_ = 0;  // the size the frame's first chunk declared
  int64_t abandoned_ = 0;
};

}  // namespace xfed::transport
