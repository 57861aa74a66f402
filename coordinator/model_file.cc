#include "coordinator/model_file.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "compression/frame.h"
#include "compression/state_codec.h"
#include "core/model_state.h"

namespace xfed::coordinator {

Status write_file_atomically(const std::string& path, const Bytes& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::error(path + ": cannot open for writing");
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) return Status::error(path + ": write failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::error(path + ": cannot rename temporary file: " + ec.message());
  return Status::ok();
}

Result<Bytes> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Status::error(path + ": cannot open");
  Bytes bytes(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size())))
    return Status::error(path + ": read error");
  return bytes;
}

Status save_model_file(const std::string& path, NetImpl& net) {
  const auto state = read_state(net);
  Bytes payload;
  ByteWriter w(&payload);
  w.put_string(net.spec().to_json());
  auto st = compression::encode_state(layout_of(net), state.data_ptr<float>(),
                                      compression::Pipeline(), 0, &payload);
  if (!st) return st.prefixed(path);
  compression::FrameHeader h;
  h.kind = compression::FrameKind::kSavedModel;
  h.codecs = {compression::CodecId::kNone};
  return write_file_atomically(path, compression::encode_frame(h, payload));
}

Result<Net> load_model_file(const std::string& path) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return bytes.status();
  auto frame = compression::decode_frame(std::move(bytes).value());
  if (!frame) return frame.status().prefixed(path);
  if (frame.value().header.kind != compression::FrameKind::kSavedModel)
    return Status::error(path + ": not a saved model (frame kind " +
                         compression::frame_kind_name(frame.value().header.kind) + ")");
  auto r = frame.value().payload_reader();
  std::string spec_json;
  if (!r.get_string(&spec_json)) return Status::error(path + ": truncated model spec");
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
