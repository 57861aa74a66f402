#include "coordinator/checkpoint.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "compression/frame.h"
#include "coordinator/model_file.h"

namespace xfed::coordinator {
namespace {

constexpr uint64_t kMaxTensorElements = uint64_t{1} << 31;

void put_tensor(ByteWriter& w, const at::Tensor& t) {
  const auto c = t.to(at::kFloat).contiguous();
  w.put_varint(static_cast<uint64_t>(c.numel()));
  w.put_bytes(c.data_ptr<float>(), c.numel() * sizeof(float));
}

bool get_tensor(ByteReader& r, at::Tensor* t) {
  uint64_t n;
  if (!r.get_varint(&n) || n > kMaxTensorElements || n * sizeof(float) > r.remaining())
    return false;
  *t = at::empty({static_cast<int64_t>(n)}, at::kFloat);
  return r.get_bytes(t->data_ptr<float>(), n * sizeof(float));
}

void put_pruning(ByteWriter& w, const CheckpointState& s) {
  w.put_u64(static_cast<uint64_t>(s.structure_version));
  w.put_u64(static_cast<uint64_t>(s.lr_origin));
  w.put_varint(s.kept_original.size());
  for (const auto& layer : s.kept_original) {
    w.put_varint(layer.size());
    for (auto i : layer) w.put_varint(static_cast<uint64_t>(i));
  }
  w.put_varint(s.has_input_stats.size());
  w.put_bytes(s.has_input_stats.data(), s.has_input_stats.size());
  w.put_varint(s.input_stats.size());
  w.put_bytes(s.input_stats.data(), s.input_stats.size());
}

bool get_pruning(ByteReader& r, CheckpointState* s) {
  uint64_t version, origin, layers, n;
  if (!r.get_u64(&version) || !r.get_u64(&origin) || !r.get_varint(&layers) || layers > r.remaining())
    return false;
  s->structure_version = static_cast<int64_t>(version);
  s->lr_origin = static_cast<int64_t>(origin);
  s->kept_original.resize(layers);
  for (auto& layer : s->kept_original) {
    if (!r.get_varint(&n) || n > r.remaining()) return false;
    layer.resize(n);
    for (auto& i : layer) {
      uint64_t v;
      if (!r.get_varint(&v)) return false;
      i = static_cast<int64_t>(v);
    }
  }
  if (!r.get_varint(&n) || n > r.remaining()) return false;
  s->has_input_stats.resize(n);
  if (n > 0 && !r.get_bytes(s->has_input_stats.data(), n)) return false;
  if (!r.get_varint(&n) || n > r.remaining()) return false;
  s->input_stats.resize(n);
  return n == 0 || r.get_bytes(s->input_stats.data(), n);
}

}  // namespace

std::string checkpoint_path(const std::string& dir) {
  return (std::filesystem::path(dir) / "checkpoint.xfed").string();
}

Status save_checkpoint(const std::string& dir, const CheckpointState& s) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::error("--checkpoint-dir " + dir + ": " + ec.message());
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
  put_tensor(w, s.weights);
  w.put_varint(s.optimizer_state.size());
  for (const auto& t : s.optimizer_state) put_tensor(w, t);
  w.put_f64(s.totals.total_seconds_link);
  w.put_u64(static_cast<uint64_t>(s.view_version));
  put_tensor(w, s.view.defined() ? s.view : s.weights);
  put_pruning(w, s);
  compression::FrameHeader h;
  h.kind = compression::FrameKind::kCheckpoint;
  h.round = static_cast<uint32_t>(s.round);
  h.model_version = static_cast<uint32_t>(s.model_version);
  return write_file_atomically(checkpoint_path(dir), compression::encode_frame(h, payload));
}

Result<CheckpointState> load_checkpoint(const std::string& dir) {
  const auto path = checkpoint_path(dir);
  auto bytes = read_file_bytes(path);
  if (!bytes) return bytes.status();
  auto frame = compression::decode_frame(std::move(bytes).value());
  if (!frame) return frame.status().prefixed(path);
  if (frame.value().header.kind != compression::FrameKind::kCheckpoint)
    return Status::error(path + ": not a checkpoint");
  auto r = frame.value().payload_reader();
  CheckpointState s;
  uint64_t round, version, up, down, up_dense, down_dense, n_opt;
  bool ok = r.get_u64(&round) && r.get_u64(&version) && r.get_string(&s.spec_json) &&
            r.get_u64(&up) && r.get_u64(&down) && r.get_u64(&up_dense) &&
            r.get_u64(&down_dense) && r.get_f64(&s.totals.seconds) &&
            get_tensor(r, &s.weights) && r.get_varint(&n_opt) && n_opt <= 16;
  for (uint64_t i = 0; ok && i < n_opt; ++i) {
    s.optimizer_state.emplace_back();
    ok = get_tensor(r, &s.optimizer_state.back());
  }
  uint64_t view_version = 0;
  ok = ok && r.get_f64(&s.totals.total_seconds_link) && r.get_u64(&view_version) &&
       get_tensor(r, &s.view) && s.view.numel() == s.weights.numel() && (r.done() || get_pruning(r, &s));
  if (!ok || !r.done()) return Status::error(path + ": truncated or malformed checkpoint");
  s.view_version = static_cast<int64_t>(view_version);
  s.round = static_cast<int64_t>(round);
  s.model_version = static_cast<int64_t>(version);
  s.totals.total_bytes_up = static_cast<int64_t>(up);
  s.totals.total_bytes_down = static_cast<int64_t>(down);
  s.totals.total_bytes_up_dense = static_cast<int64_t>(up_dense);
  s.totals.total_bytes_down_dense = static_cast<int64_t>(down_dense);
  return s;
}

}  // namespace xfed::coordinator
