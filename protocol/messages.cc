#include "protocol/messages.h"

#include <cmath>
#include <type_traits>

#include "protocol/frame.h"

namespace xfed::protocol {
namespace {

constexpr size_t kMaxReasonBytes = 1024;
constexpr size_t kMaxControlText = 64 * 1024;

bool get_bool(ByteReader& r, bool* v) {
  uint8_t b;
  if (!r.get_u8(&b) || b > 1) return false;
  *v = b == 1;
  return true;
}

// A one-byte wire enum whose values run from `first` to `last`; anything else is refused.
template <typename E>
bool get_enum(ByteReader& r, E first, E last, E* v) {
  uint8_t b;
  if (!r.get_u8(&b) || b < static_cast<uint8_t>(first) || b > static_cast<uint8_t>(last)) return false;
  *v = static_cast<E>(b);
  return true;
}

// The training knobs, as TrainOptions::visit lists them. Read back: whole numbers where the
// wire is an integer, finite and within the knob's range (its lower end included: a decayed
// learning rate may reach 0).
void write_train_options(ByteWriter& w, const TrainOptions& t) {
  TrainOptions::visit(t, [&w](const Knob& k, const auto& v) {
    switch (k.wire) {
      case Knob::Wire::kF64: w.put_f64(static_cast<double>(v)); break;
      case Knob::Wire::kU32: w.put_u32(static_cast<uint32_t>(v)); break;
      case Knob::Wire::kU64: w.put_u64(static_cast<uint64_t>(v)); break;
    }
  });
}

bool read_train_options(ByteReader& r, TrainOptions* t) {
  bool ok = true;
  TrainOptions::visit(*t, [&](const Knob& k, auto& v) {
    using T = std::decay_t<decltype(v)>;
    double d = 0;
    uint32_t u32 = 0;
    uint64_t u64 = 0;
    if (!ok) return;
    switch (k.wire) {
      case Knob::Wire::kF64: ok = r.get_f64(&d) && d >= k.lo && d <= k.hi; break;
      case Knob::Wire::kU32: ok = r.get_u32(&u32) && u32 >= k.lo && u32 <= k.hi; d = u32; break;
      case Knob::Wire::kU64: ok = r.get_u64(&u64); break;  // the whole range
    }
    if (ok) v = k.wire == Knob::Wire::kU64 ? static_cast<T>(u64) : static_cast<T>(d);
  });
  return ok;
}

// Control commands whose payload carries a text after the command byte.
bool carries_text(ControlCommand c) {
  return c == ControlCommand::kClientStateSaved || c == ControlCommand::kCheckConfig ||
         c == ControlCommand::kConfigChecked || c == ControlCommand::kResume;
}

// A message written as the payload of one frame of `kind`.
template <class Message>
Bytes message_frame(const Message& m, FrameKind kind, uint32_t round, uint32_t sender) {
  Bytes payload;
  ByteWriter w(&payload);
  m.write(w);
  FrameHeader h;
  h.kind = kind;
  h.round = round;
  h.sender = sender;
  return encode_frame(h, payload);
}

}  // namespace

void TrainTask::write(ByteWriter& w) const {
  w.put_u8(static_cast<uint8_t>(mode));
  write_train_options(w, train);
  uplink.write_params(w);
  w.put_u8(error_feedback ? 1 : 0);
  w.put_f64(ef_momentum);
  w.put_u32(stats_samples);
  w.put_f64(stats_noise);
  w.put_u8(static_cast<uint8_t>((spatial ? 1 : 0) | (taylor ? 2 : 0) | (skip_input ? 4 : 0) |
                                (fp32_stats ? 8 : 0) | (secagg ? 16 : 0)));
  w.put_f64(stats_clip_rms);
  if (secagg) secagg->write(w);
}

bool TrainTask::read(ByteReader& r) {
  uint8_t flags;
  if (!get_enum(r, TaskMode::kTrain, TaskMode::kStats, &mode)) return false;
  const bool ok = read_train_options(r, &train) && uplink.read_params(r) && get_bool(r, &error_feedback) &&
         r.get_f64(&ef_momentum) && ef_momentum >= 0 && ef_momentum < 1 &&
         r.get_u32(&stats_samples) && r.get_f64(&stats_noise) && r.get_u8(&flags) && flags < 32 &&
         stats_noise >= 0 && r.get_f64(&stats_clip_rms) && stats_clip_rms >= 0 && stats_clip_rms <= kMaxClipRms;
  secagg.reset();
  if (ok && (flags & 16)) {
    if (!secagg.emplace().read(r)) return false;
  }
  spatial = ok && (flags & 1);
  taylor = ok && (flags & 2);
  skip_input = ok && (flags & 4);
  fp32_stats = ok && (flags & 8);
  return ok;
}

void SecAggTask::write(ByteWriter& w) const {
  w.put_u32(degree);
  w.put_u32(threshold);
  w.put_f64(range);
  w.put_u8(bits);
  w.put_u8(ring_bits);
  w.put_f64(dp_clip);
  w.put_f64(dp_noise);
}

bool SecAggTask::read(ByteReader& r) {
  return r.get_u32(&degree) && degree >= 2 && degree % 2 == 0 && degree <= 1024 && r.get_u32(&threshold) &&
         threshold >= 2 && threshold <= degree && r.get_f64(&range) && std::isfinite(range) && range > 0 &&
         r.get_u8(&bits) && bits >= 1 && bits <= 31 && r.get_u8(&ring_bits) && ring_bits >= bits && ring_bits <= 32 &&
         r.get_f64(&dp_clip) && r.get_f64(&dp_noise) && std::isfinite(dp_clip) && std::isfinite(dp_noise) &&
         dp_clip >= 0 && dp_clip <= kMaxSecAggDp && dp_noise >= 0 && dp_noise <= kMaxSecAggDp &&
         (dp_noise == 0 || dp_clip > 0);
}

const char* failure_kind_name(FailureKind kind) {
  switch (kind) {
    case FailureKind::kDiverged: return "diverged";
    case FailureKind::kBadTask: return "bad task";
    case FailureKind::kInternal: return "internal error";
    case FailureKind::kRejected: return "rejected";
  }
  return "unknown";
}

void TaskFailure::write(ByteWriter& w) const {
  w.put_u8(static_cast<uint8_t>(kind));
  w.put_string(reason.substr(0, kMaxReasonBytes));
}

bool TaskFailure::read(ByteReader& r) {
  if (!get_enum(r, FailureKind::kDiverged, FailureKind::kInternal, &kind)) return false;
  return r.get_string(&reason, kMaxReasonBytes) && r.done();
}

// A shutdown carries its reason only when it has one (a stop before the end: an interrupted
// coordinator); without one it is the single byte it always was.
static bool has_text(const ControlMessage& m) {
  return carries_text(m.command) || (m.command == ControlCommand::kShutdown && !m.text.empty());
}

void ControlMessage::write(ByteWriter& w) const {
  w.put_u8(static_cast<uint8_t>(command));
  if (has_text(*this)) w.put_string(text.substr(0, kMaxControlText));
}

bool ControlMessage::read(ByteReader& r) {
  if (!get_enum(r, ControlCommand::kShutdown, ControlCommand::kResume, &command)) return false;
  text.clear();
  const bool text_follows = carries_text(command) || (command == ControlCommand::kShutdown && !r.done());
  if (text_follows && !r.get_string(&text, kMaxControlText)) return false;
  if (command == ControlCommand::kShutdown && text_follows && text.empty()) return false;  // never written so
  return r.done();
}

Bytes ControlMessage::frame(uint32_t round, uint32_t sender) const {
  return message_frame(*this, FrameKind::kControl, round, sender);
}

void UpdateMeta::write(ByteWriter& w) const {
  w.put_varint(samples);
  w.put_f32(train_loss);
  w.put_f32(seconds_compute);
  w.put_f32(seconds_decode);
  w.put_f32(seconds_encode);
  w.put_u32(base_crc);
}

bool UpdateMeta::read(ByteReader& r) {
  return r.get_varint(&samples) && r.get_f32(&train_loss) && r.get_f32(&seconds_compute) &&
         r.get_f32(&seconds_decode) && r.get_f32(&seconds_encode) && r.get_u32(&base_crc);
}

void ModelCode::write(ByteWriter& w) const {
  const auto digest = sha256(*archive);
  w.put_bytes(digest.data(), digest.size());
  w.put_bytes(archive->data(), archive->size());
}

bool ModelCode::read(ByteReader& r) {
  Sha256 declared;
  if (!r.get_bytes(declared.data(), declared.size())) return false;
  const size_t n = r.remaining();
  if (n == 0 || n > kMaxModelCodeBytes) return false;
  const auto* bytes = r.take(n);
  auto code = std::make_shared<std::string>(reinterpret_cast<const char*>(bytes), n);
  if (sha256(*code) != declared) return false;
  archive = std::move(code);
  return true;
}

Bytes ModelCode::frame(uint32_t round) const { return message_frame(*this, FrameKind::kCode, round, 0); }

}  // namespace xfed::protocol
