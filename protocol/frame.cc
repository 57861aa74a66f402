#include "protocol/frame.h"

#include "compression/pipeline.h"

#include <string>

namespace xfed::protocol {
namespace {

bool known_kind(uint8_t k) {
  return k >= static_cast<uint8_t>(FrameKind::kModel) &&
         k <= static_cast<uint8_t>(FrameKind::kSecAggUnmask);
}

}  // namespace

const char* frame_kind_name(FrameKind kind) {
  switch (kind) {
    case FrameKind::kModel: return "model";
    case FrameKind::kDelta: return "delta";
    case FrameKind::kUpdate: return "update";
    case FrameKind::kStats: return "stats";
    case FrameKind::kPlan: return "plan";
    case FrameKind::kControl: return "control";
    case FrameKind::kCheckpoint: return "checkpoint";
    case FrameKind::kSavedModel: return "saved-model";
    case FrameKind::kClientState: return "client-state";
    case FrameKind::kFailure: return "failure";
    case FrameKind::kSeededModel: return "seeded-model";
    case FrameKind::kCode: return "code";
    case FrameKind::kSecAggKeys: return "secagg-keys";
    case FrameKind::kSecAggShares: return "secagg-shares";
    case FrameKind::kSecAggMasked: return "secagg-masked";
    case FrameKind::kSecAggUnmask: return "secagg-unmask";
  }
  return "unknown";
}

Bytes encode_frame(const FrameHeader& h, const uint8_t* payload, size_t size) {
  XFED_CHECK_LE(h.codecs.size(), 255u, "too many codec stages");
  Bytes out;
  out.reserve(kFrameFixedHeaderBytes + h.codecs.size() + size);
  ByteWriter w(&out);
  w.put_u32(kFrameMagic);
  w.put_u16(kFrameVersion);
  w.put_u8(static_cast<uint8_t>(h.kind));
  w.put_u8(static_cast<uint8_t>(h.codecs.size()));
  w.put_u32(h.round);
  w.put_u32(h.sender);
  w.put_u32(h.client);
  w.put_u32(h.model_version);
  w.put_u64(size);
  w.put_u32(crc32_of(payload, size));
  for (auto c : h.codecs) w.put_u8(static_cast<uint8_t>(c));
  w.put_bytes(payload, size);
  return out;
}

Result<Frame> decode_frame(Bytes bytes, uint64_t max_frame_bytes) {
  if (bytes.size() > max_frame_bytes)
    return Status::corruption("frame of " + std::to_string(bytes.size()) +
                         " bytes exceeds max_frame_bytes " + std::to_string(max_frame_bytes));
  ByteReader r(bytes);
  uint32_t magic, crc;
  uint16_t version;
  uint8_t kind, ncodecs;
  uint64_t length;
  Frame f;
  auto& h = f.header;
  if (!r.get_u32(&magic) || !r.get_u16(&version) || !r.get_u8(&kind) || !r.get_u8(&ncodecs) ||
      !r.get_u32(&h.round) || !r.get_u32(&h.sender) || !r.get_u32(&h.client) ||
      !r.get_u32(&h.model_version) || !r.get_u64(&length) || !r.get_u32(&crc))
    return Status::corruption("truncated frame header (" + std::to_string(bytes.size()) + " bytes)");
  if (magic != kFrameMagic) return Status::corruption("bad magic (not an xfed frame)");
  if (version < kOldestFrameVersion || version > kFrameVersion)
    return Status::corruption("unsupported frame format version " + std::to_string(version) +
                         " (this build reads versions " + std::to_string(kOldestFrameVersion) + " to " +
                         std::to_string(kFrameVersion) + ")");
  f.version = version;
  if (!known_kind(kind)) return Status::corruption("unknown frame kind " + std::to_string(kind));
  h.kind = static_cast<FrameKind>(kind);
  for (int i = 0; i < ncodecs; ++i) {
    uint8_t c;
    if (!r.get_u8(&c)) return Status::corruption("truncated codec list");
    if (!compression::codec_id_known(c)) return Status::corruption("unknown codec id " + std::to_string(c));
    h.codecs.push_back(static_cast<CodecId>(c));
  }
  if (length != r.remaining())
    return Status::corruption("payload length " + std::to_string(length) + " but " +
                         std::to_string(r.remaining()) + " bytes follow the header");
  f.payload_offset = r.position();
  f.payload_size = static_cast<size_t>(length);
  if (crc32_of(bytes.data() + f.payload_offset, f.payload_size) != crc)
    return Status::corruption("payload checksum mismatch");
  f.bytes = std::move(bytes);
  return f;
}

}  // namespace xfed::protocol
