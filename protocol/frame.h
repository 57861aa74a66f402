// Frame: the unit xfed puts on any wire (inproc, MPI, ZeroMQ) and in files.
//
// Layout, little-endian (wire format: never change a value, only add):
//   off size field
//     0    4 magic "XFED"
//     4    2 format version (kFrameVersion)
//     6    1 kind (FrameKind)
//     7    1 K = number of codec ids
//     8    4 round
//    12    4 sender (rank or device id of the party that built the frame)
//    16    4 client (logical client the frame concerns; kNoClient if none)
//    20    4 model version (bumps on every global model update / structure change)
//    24    8 payload length
//    32    4 CRC-32 of the payload
//    36    K codec ids (CodecId, pipeline order)
//  36+K    payload
// decode_frame trusts nothing: sizes are checked against the buffer and max_frame_bytes,
// unknown versions/kinds/codecs are errors, and the checksum must match. Errors are values
// whose message the caller prefixes with the peer ("frame from worker 7: ...").
#pragma once

#include <cstdint>
#include <vector>

#include "core/coding.h"
#include "core/status.h"
#include "compression/codec_ids.h"

namespace xfed::protocol {

// The stages' codec ids, as frame headers carry them.
using compression::CodecId;

constexpr uint32_t kFrameMagic = 0x44454658;  // "XFED" read as little-endian u32
// Format versions (every one of them is still read):
//   1  the first format
//   2  TrainTask carries its uplink pipeline in binary (Pipeline::write_params), not as spec
//      text; tasks in version-1 frames are refused (a worker answers "bad task")
constexpr uint16_t kFrameVersion = 2;
constexpr uint16_t kOldestFrameVersion = 1;
constexpr size_t kFrameFixedHeaderBytes = 36;
constexpr uint32_t kNoClient = 0xffffffffu;
constexpr uint64_t kDefaultMaxFrameBytes = uint64_t{1} << 30;

// wire format: never change these values.
enum class FrameKind : uint8_t {
  kModel = 1,       // full model (+ training task) to a client
  kDelta = 2,       // model delta against a version the client holds (+ task)
  kUpdate = 3,      // client update (+ metadata) to the coordinator
  kStats = 4,       // class statistics for DI pruning
  kPlan = 5,        // structure plan
  kControl = 6,     // shutdown and other commands
  kCheckpoint = 7,  // coordinator checkpoint file
  kSavedModel = 8,  // exported model file (--save-model)
  kClientState = 9, // clients' error-feedback state, beside a checkpoint (simulation)
  kFailure = 10,    // a client could not do its task (+ why): counted, never waited for
  kSeededModel = 11,  // the initial model as its seed, then deltas (+ task)
  kCode = 12,       // the model's code (a TorchScript archive) before a worker's first model
  // Secure aggregation's steps (protocol/secagg_messages.h), each a request down and its
  // answer up, for one client (header.client):
  kSecAggKeys = 13,    // up: the client's key advert (after training); down: the round's adverts
  kSecAggShares = 14,  // up: the sealed shares it sends; down: those addressed to it
  kSecAggMasked = 15,  // up: its masked input (down: none)
  kSecAggUnmask = 16,  // down: survivors and dropped; up: the shares it hands over
};
const char* frame_kind_name(FrameKind kind);

struct FrameHeader {
  FrameKind kind = FrameKind::kControl;
  uint32_t round = 0;
  uint32_t sender = 0;
  uint32_t client = kNoClient;
  uint32_t model_version = 0;
  std::vector<CodecId> codecs;
};

struct Frame {
  uint16_t version = kFrameVersion;  // format version as decoded (encode_frame writes kFrameVersion)
  FrameHeader header;
  Bytes bytes;               // the whole frame as received
  size_t payload_offset = 0;
  size_t payload_size = 0;
  const uint8_t* payload() const { return bytes.data() + payload_offset; }
  ByteReader payload_reader() const { return ByteReader(payload(), payload_size); }
};

// Header + payload -> frame bytes (length and checksum filled in).
Bytes encode_frame(const FrameHeader& header, const uint8_t* payload, size_t size);
inline Bytes encode_frame(const FrameHeader& header, const Bytes& payload) {
  return encode_frame(header, payload.data(), payload.size());
}

// Takes ownership of the bytes; on success the payload points into them.
Result<Frame> decode_frame(Bytes bytes, uint64_t max_frame_bytes = kDefaultMaxFrameBytes);

}  // namespace xfed::protocol
