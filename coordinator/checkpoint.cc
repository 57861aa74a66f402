#include "coordinator/checkpoint.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "coordinator/model_file.h"
#include "core/file_io.h"
#include "core/model_state.h"
#include "protocol/frame.h"
#include "pruning/structure_plan.h"

namespace xfed::coordinator {
namespace {

// A byte vector: its size, then its bytes.
template <typename Vec>
void put_sized(ByteWriter& w, const Vec& v) {
  w.put_varint(v.size());
  w.put_bytes(v.data(), v.size());
}

template <typename Vec>
bool get_sized(ByteReader& r, Vec* v) {
  uint64_t n;
  if (!r.get_varint(&n) || n > r.remaining()) return false;
  v->resize(n);
  return n == 0 || r.get_bytes(v->data(), n);
}

void put_pruning(ByteWriter& w, const CheckpointState& s) {
  w.put_u64(static_cast<uint64_t>(s.structure_version));
  w.put_u64(static_cast<uint64_t>(s.lr_origin));
  pruning::write_index_lists(w, s.kept_original);
  put_sized(w, s.has_input_stats);
  put_sized(w, s.input_stats);
}

bool get_pruning(ByteReader& r, CheckpointState* s) {
  uint64_t version, origin;
  if (!r.get_u64(&version) || !r.get_u64(&origin) || !pruning::read_index_lists(r, &s->kept_original))
    return false;
  s->structure_version = static_cast<int64_t>(version);
  s->lr_origin = static_cast<int64_t>(origin);
  return get_sized(r, &s->has_input_stats) && get_sized(r, &s->input_stats);
}

}  // namespace

constexpr size_t kMaxIdentityBytes = 1 << 20;

std::string checkpoint_path(const std::string& dir) {
  return (std::filesystem::path(dir) / "checkpoint.xfed").string();
}

Status save_checkpoint(const std::string& dir, const CheckpointState& s) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io("--checkpoint-dir " + dir + ": " + ec.message());
  Bytes payload;
  ByteWriter w(&payload);
  w.put_u64(static_cast<uint64_t>(s.round));
  w.put_u64(static_cast<uint64_t>(s.model_version));
  w.put_string(s.spec_json);
  w.put_u64(static_cast<uint64_t>(s.totals.total_bytes_up));
  w.put_u64(static_cast<uint64_t>(s.totals.total_bytes_down));
  w.put_u64(static_cast<uint64_t>(s.totals.total_bytes_up_dense));
  w.put_u64(static_cast<uint64_t>(s.totals.total_bytes_down_dense));
  w.put_f64(s.totals.seconds);
  put_floats(w, s.weights);
  w.put_varint(s.optimizer_state.size());
  for (const auto& t : s.optimizer_state) put_floats(w, t);
  w.put_f64(s.totals.total_seconds_link);
  w.put_u64(static_cast<uint64_t>(s.view_version));
  put_floats(w, s.view.defined() ? s.view : s.weights);
  put_pruning(w, s);
  w.put_string(s.run_identity);
  w.put_u64(static_cast<uint64_t>(s.totals.total_bytes_down_delta));
  w.put_u64(static_cast<uint64_t>(s.totals.total_bytes_down_full));
  put_sized(w, s.privacy);
  protocol::FrameHeader h;
  h.kind = protocol::FrameKind::kCheckpoint;
  h.round = static_cast<uint32_t>(s.round);
  h.model_version = static_cast<uint32_t>(s.model_version);
  return write_file_atomically(checkpoint_path(dir), protocol::encode_frame(h, payload));
}

Result<CheckpointState> load_checkpoint(const std::string& dir) {
  const auto path = checkpoint_path(dir);
  auto bytes = read_file_bytes(path, kMaxCheckpointBytes);
  if (!bytes) return bytes.status();
  return decode_checkpoint(std::move(bytes).value(), path);
}

Result<CheckpointState> decode_checkpoint(Bytes bytes, const std::string& path) {
  auto frame = protocol::decode_frame(std::move(bytes), kMaxCheckpointBytes);
  if (!frame) return frame.status().prefixed(path);
  if (frame.value().header.kind != protocol::FrameKind::kCheckpoint)
    return Status::corruption(path + ": not a checkpoint");
  auto r = frame.value().payload_reader();
  CheckpointState s;
  uint64_t round, version, up, down, up_dense, down_dense, n_opt;
  bool ok = r.get_u64(&round) && r.get_u64(&version) && r.get_string(&s.spec_json) &&
            r.get_u64(&up) && r.get_u64(&down) && r.get_u64(&up_dense) &&
            r.get_u64(&down_dense) && r.get_f64(&s.totals.seconds) &&
            get_floats(r, &s.weights) && r.get_varint(&n_opt) && n_opt <= 16;
  for (uint64_t i = 0; ok && i < n_opt; ++i) {
    s.optimizer_state.emplace_back();
    ok = get_floats(r, &s.optimizer_state.back());
  }
  uint64_t view_version = 0, down_delta = 0, down_full = 0;
  ok = ok && r.get_f64(&s.totals.total_seconds_link) && r.get_u64(&view_version) &&
       get_floats(r, &s.view) && s.view.numel() == s.weights.numel() &&
       (r.done() || (get_pruning(r, &s) && (r.done() || r.get_string(&s.run_identity, kMaxIdentityBytes))));
  // Written since the downlink kept steps (older checkpoints end before them).
  ok = ok && (r.done() || (r.get_u64(&down_delta) && r.get_u64(&down_full)));
  ok = ok && (r.done() || get_sized(r, &s.privacy));  // since --dp
  if (!ok || !r.done()) return Status::corruption(path + ": truncated or malformed checkpoint");
  s.view_version = static_cast<int64_t>(view_version);
  s.round = static_cast<int64_t>(round);
  s.model_version = static_cast<int64_t>(version);
  s.totals.total_bytes_up = static_cast<int64_t>(up);
  s.totals.total_bytes_down = static_cast<int64_t>(down);
  s.totals.total_bytes_up_dense = static_cast<int64_t>(up_dense);
  s.totals.total_bytes_down_dense = static_cast<int64_t>(down_dense);
  s.totals.total_bytes_down_delta = static_cast<int64_t>(down_delta);
  s.totals.total_bytes_down_full = static_cast<int64_t>(down_full);
  return s;
}

}  // namespace xfed::coordinator
