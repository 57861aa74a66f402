#include "coordinator/model_file.h"

#include <ATen/ATen.h>

#include <fstream>

#include "compression/state_codec.h"
#include "core/file_io.h"
#include "core/model_state.h"
#include "core/models/torchscript.h"
#include "protocol/frame.h"

namespace xfed::coordinator {

Status save_model_file(const std::string& path, NetImpl& net) {
  if (net.spec().arch == kTorchScriptFamily) {
    auto archive = torchscript_archive_with_state(net);
    if (!archive) return archive.status().prefixed(path);
    return write_file_atomically(path, Bytes(archive.value().begin(), archive.value().end()));
  }
  const auto state = read_state(net);
  Bytes payload;
  ByteWriter w(&payload);
  w.put_string(net.spec().to_json());
  auto st = compression::encode_state(layout_of(net), state.data_ptr<float>(),
                                      compression::Pipeline(), 0, &payload);
  if (!st) return st.prefixed(path);
  protocol::FrameHeader h;
  h.kind = protocol::FrameKind::kSavedModel;
  h.codecs = {protocol::CodecId::kNone};
  return write_file_atomically(path, protocol::encode_frame(h, payload));
}

Result<Net> load_model_file(const std::string& path) {
  auto bytes = read_file_bytes(path, kMaxModelFileBytes);
  if (!bytes) return bytes.status();
  return decode_model_file(std::move(bytes).value(), path);
}

bool is_torchscript_file(const std::string& path) {
  char head[4] = {};
  std::ifstream in(path, std::ios::binary);
  return in.read(head, sizeof head) && std::string(head, sizeof head) == std::string("PK\x03\x04", 4);
}

Result<Net> decode_model_file(Bytes bytes, const std::string& path) {
  auto frame = protocol::decode_frame(std::move(bytes), kMaxModelFileBytes);
  if (!frame) return frame.status().prefixed(path);
  if (frame.value().header.kind != protocol::FrameKind::kSavedModel)
    return Status::corruption(path + ": not a saved model (frame kind " +
                         protocol::frame_kind_name(frame.value().header.kind) + ")");
  auto r = frame.value().payload_reader();
  std::string spec_json;
  if (!r.get_string(&spec_json)) return Status::corruption(path + ": truncated model spec");
  auto spec = ModelSpec::from_json(spec_json);
  if (!spec) return spec.status().prefixed(path);
  Net net = make_model(spec.value());
  const auto layout = layout_of(*net);
  auto state = at::empty({layout.total}, at::kFloat);
  if (auto st = compression::decode_state(r, layout, frame.value().header.codecs, state.data_ptr<float>()); !st)
    return st.prefixed(path);
  write_state(*net, state);
  return net;
}

}  // namespace xfed::coordinator
