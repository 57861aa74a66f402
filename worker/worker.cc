#include "worker/worker.h"

#include <ATen/ATen.h>

#include <chrono>

#include "compression/state_codec.h"
#include "core/log.h"
#include "core/model_state.h"
#include "core/rng.h"
#include "worker/local_trainer.h"

namespace xfed::worker {
namespace {

using compression::Frame;
using compression::FrameKind;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

Worker::Worker(transport::Transport& transport, std::shared_ptr<const ClientDataSource> data,
               WorkerOptions options)
    : transport_(transport), data_(std::move(data)), options_(options) {}

Status Worker::run() {
  const std::string me = transport::peer_name(transport_.rank());
  while (true) {
    auto got = transport_.recv({transport::kAnySource, std::chrono::milliseconds(-1)});
    if (got.kind == transport::Received::Kind::kError && got.message.source > 0)
      continue;  // another worker went away: not our business
    if (got.kind != transport::Received::Kind::kMessage) return got.status.prefixed(me);
    auto frame = compression::decode_frame(std::move(got.message.bytes), options_.max_frame_bytes);
    if (!frame) {
      log_warning(me + ": dropped frame from " + transport::peer_name(got.message.source) +
                  ": " + frame.message());
      continue;
    }
    const auto kind = frame.value().header.kind;
    if (kind == FrameKind::kControl) return Status::ok();  // shutdown
    if (kind != FrameKind::kModel) {
      log_warning(me + ": ignored unexpected " +
                  std::string(compression::frame_kind_name(kind)) + " frame");
      continue;
    }
    if (auto st = handle_model(frame.value()); !st)
      log_warning(me + ": task for client " + std::to_string(frame.value().header.client) +
                  " dropped: " + st.message());
  }
}

Status Worker::load_model(ByteReader& r, at::Tensor* round_state) {
  std::string spec_json;
  if (!r.get_string(&spec_json)) return Status::error("truncated model spec");
  auto spec = ModelSpec::from_json(spec_json);
  if (!spec) return spec.status();
  if (!net_ || net_->spec() != spec.value()) {
    net_ = make_model(spec.value());
    layout_ = layout_of(*net_);
  }
  *round_state = at::empty({layout_.total}, at::kFloat);
  auto pipeline = compression::Pipeline();  // downlink: full model, uncompressed
  if (auto st = compression::decode_state(r, layout_, pipeline, round_state->data_ptr<float>()); !st)
    return st;
  write_state(*net_, *round_state);
  return Status::ok();
}

const compression::Pipeline& Worker::uplink(const std::string& spec) {
  if (uplink_.spec() != spec) uplink_ = compression::Pipeline::parse(spec).value_or_throw();
  return uplink_;
}

Status Worker::handle_model(const Frame& frame) {
  const auto& h = frame.header;
  auto t = Clock::now();
  auto r = frame.payload_reader();
  compression::TrainTask task;
  if (!task.read(r)) return Status::error("truncated or invalid training task");
  if (!data_->has_client(h.client))
    return Status::error("this worker holds no data for client " + std::to_string(h.client));
  at::Tensor round_state;
  if (auto st = load_model(r, &round_state); !st) return st;
  compression::UpdateMeta meta;
  meta.seconds_decode = seconds_since(t);

  t = Clock::now();
  task.seed = mix_seed(task.seed, kStreamLocalTraining, h.round, h.client);
  const auto result = train_locally(*net_, data_->client_data(h.client), task);
  const auto delta = read_state(*net_).sub_(round_state);
  meta.seconds_compute = seconds_since(t);
  meta.samples = static_cast<uint64_t>(result.samples);
  meta.train_loss = result.mean_loss;

  t = Clock::now();
  const auto& pipe = uplink(task.uplink);
  Bytes payload;
  ByteWriter w(&payload);
  meta.write(w);  // placeholder: rewritten below once the encode time is known
  const size_t meta_size = payload.size();
  compression::encode_state(layout_, delta.data_ptr<float>(), pipe,
                            mix_seed(task.seed, kStreamCodec), &payload);
  meta.seconds_encode = seconds_since(t);
  Bytes meta_bytes;
  ByteWriter mw(&meta_bytes);
  meta.write(mw);
  std::copy(meta_bytes.begin(), meta_bytes.end(), payload.begin());
  XFED_CHECK_EQ(meta_bytes.size(), meta_size, "UpdateMeta size changed");
  compression::FrameHeader out{FrameKind::kUpdate, h.round,
                               static_cast<uint32_t>(transport_.rank()), h.client,
                               h.model_version, pipe.codec_ids()};
  ++tasks_done_;
  return transport_.send(0, compression::encode_frame(out, payload));
}

}  // namespace xfed::worker
