#include "coordinator/broadcast.h"

#include <ATen/ATen.h>

#include "compression/state_codec.h"
#include "core/model_state.h"

namespace xfed::coordinator {

using protocol::FrameKind;

Broadcaster::Broadcaster(compression::Pipeline downlink, int world_size, int64_t clients)
    : downlink_(std::move(downlink)), rank_version_(world_size, -1), client_version_(clients, -1) {}

void Broadcaster::reset(const at::Tensor& view, int64_t version) {
  view_ = view.clone();
  version_ = version;
  crc_ = state_crc(view_);
  std::fill(rank_version_.begin(), rank_version_.end(), -1);
  std::fill(client_version_.begin(), client_version_.end(), -1);
}

void Broadcaster::advance(const at::Tensor& global, const StateLayout& layout, uint64_t seed) {
  full_state_.clear();
  delta_state_.clear();
  if (downlink_.lossless()) {
    view_ = global.clone();
  } else {
    const auto delta = global - view_;
    auto sent = at::empty_like(delta);
    auto st = compression::encode_state(layout, delta.data_ptr<float>(), downlink_, seed,
                                        &delta_state_, sent.data_ptr<float>());
    st.throw_if_error();  // the global model went non-finite: nothing sensible to send
    view_.add_(sent);
  }
  ++version_;
  crc_ = state_crc(view_);
}

bool Broadcaster::can_send_delta(int64_t client, int rank) const {
  if (downlink_.lossless()) return false;
  const int64_t base = version_ - 1;
  const auto r = rank_version_.at(rank);
  return client_version_.at(client) == base && (r == base || r == version_);
}

const Bytes& Broadcaster::full_state(const StateLayout& layout) {
  if (full_state_.empty())
    compression::encode_state(layout, view_.data_ptr<float>(), downlink_.lossless_part(), 0,
                              &full_state_)
        .throw_if_error();
  return full_state_;
}

Bytes Broadcaster::frame_for(int64_t client, int rank, uint32_t round,
                             const protocol::TrainTask& task, const std::string& spec_json,
                             const StateLayout& layout) {
  const bool delta = can_send_delta(client, rank);
  Bytes payload;
  ByteWriter w(&payload);
  task.write(w);
  if (delta) {
    w.put_u32(static_cast<uint32_t>(version_ - 1));
    w.put_bytes(delta_state_.data(), delta_state_.size());
  } else {
    w.put_string(spec_json);
    const auto& full = full_state(layout);
    w.put_bytes(full.data(), full.size());
  }
  protocol::FrameHeader h{delta ? FrameKind::kDelta : FrameKind::kModel, round, 0,
                             static_cast<uint32_t>(client), static_cast<uint32_t>(version_),
                             delta ? downlink_.codec_ids() : downlink_.lossless_part().codec_ids()};
  return protocol::encode_frame(h, payload);
}

void Broadcaster::mark_sent(int64_t client, int rank) {
  client_version_.at(client) = version_;
  rank_version_.at(rank) = version_;
}

void Broadcaster::forget_rank(int rank) { rank_version_.at(rank) = -1; }

}  // namespace xfed::coordinator
