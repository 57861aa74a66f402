#include "coordinator/broadcast.h"

#include <ATen/ATen.h>

#include "compression/state_codec.h"
#include "core/model_state.h"

namespace xfed::coordinator {

using protocol::FrameKind;

void count_download(DownloadKind kind, int64_t bytes, RoundReport* report) {
  (kind == DownloadKind::kFull ? report->bytes_down_full : report->bytes_down_delta) += bytes;
  switch (kind) {
    case DownloadKind::kDelta: ++report->downloads_delta; break;
    case DownloadKind::kSeeded: ++report->downloads_seeded; break;
    case DownloadKind::kFull: ++report->downloads_full; break;
  }
}

Broadcaster::Broadcaster(compression::Pipeline downlink, int world_size, int64_t clients)
    : downlink_(std::move(downlink)),
      rank_version_(world_size, -1),
      rank_seeded_(world_size, 0),
      rank_no_seed_(world_size, 0),
      client_version_(clients, -1) {}

void Broadcaster::reset(const at::Tensor& view, int64_t version) {
  view_ = view.clone();
  version_ = version;
  crc_ = state_crc(view_);
  steps_.clear();
  steps_bytes_ = 0;
  seed_.reset();
  full_state_.clear();
  std::fill(rank_version_.begin(), rank_version_.end(), -1);
  std::fill(client_version_.begin(), client_version_.end(), -1);
}

void Broadcaster::restructure(const at::Tensor& view) {
  const int64_t old = version_;
  auto ranks = rank_version_;
  auto clients = client_version_;
  reset(view, old + 1);
  for (size_t r = 0; r < ranks.size(); ++r)
    if (ranks[r] == old) rank_version_[r] = version_;
  // A client's version only bounds the steps its frames carry (the rank applies them): one
  // that held any view is served from its rank's cut view like the others.
  for (size_t c = 0; c < clients.size(); ++c)
    if (clients[c] >= 0) client_version_[c] = version_;
}

void Broadcaster::set_seed_start(uint64_t seed) { seed_ = SeedStart{seed, version_, crc_}; }

void Broadcaster::advance(const at::Tensor& global, const StateLayout& layout, uint64_t seed) {
  full_state_.clear();
  std::fill(rank_seeded_.begin(), rank_seeded_.end(), 0);
  const bool seed_is_view = seed_ && seed_->version == version_;
  if (downlink_.lossless()) {
    view_ = global.clone();
  } else {
    const auto delta = global - view_;
    auto sent = at::empty_like(delta);
    Bytes encoded;
    auto st = compression::encode_state(layout, delta.data_ptr<float>(), downlink_, seed, &encoded,
                                        sent.data_ptr<float>());
    st.throw_if_error();  // the global model went non-finite: nothing sensible to send
    view_.add_(sent);
    keep_step(std::move(encoded), static_cast<size_t>(layout.total) * sizeof(float));
  }
  ++version_;
  const uint32_t before = crc_;
  crc_ = state_crc(view_);
  // Nothing moved yet (round 1): the seed still builds the view, with no step to apply.
  if (seed_is_view && crc_ == before && crc_ == seed_->crc) seed_->version = version_;
}

// Steps beyond `limit` bytes in all are dropped, oldest first: a client that far behind
// gets the full view, which is about that size.
void Broadcaster::keep_step(Bytes encoded, size_t limit) {
  steps_bytes_ += encoded.size();
  steps_.push_back(Step{version_ + 1, std::move(encoded)});
  while (!steps_.empty() && steps_bytes_ > limit) {
    steps_bytes_ -= steps_.front().encoded.size();
    steps_.pop_front();
  }
}

size_t Broadcaster::steps_bytes_since(int64_t base) const {
  size_t n = 0;
  for (const auto& s : steps_)
    if (s.version > base) n += s.encoded.size();
  return n;
}

void Broadcaster::append_steps_since(int64_t base, ByteWriter& w) const {
  for (const auto& s : steps_)
    if (s.version > base) w.put_bytes(s.encoded.data(), s.encoded.size());
}

// The version both the client and its rank hold (the rank may be ahead: it skips steps
// it has), if the kept steps lead on from it.
std::optional<int64_t> Broadcaster::delta_base(int64_t client, int rank) const {
  const int64_t c = client_version_.at(client), r = rank_version_.at(rank);
  if (c < 0 || r < 0) return std::nullopt;
  const int64_t base = std::min(c, r);
  if (base < oldest_base() || base > version_) return std::nullopt;
  return base;
}

bool Broadcaster::can_seed(int rank) const {
  return seed_ && !rank_no_seed_.at(rank) && seed_->version >= oldest_base();
}

const Bytes& Broadcaster::full_state(const StateLayout& layout) {
  if (full_state_.empty())
    compression::encode_state(layout, view_.data_ptr<float>(), downlink_.lossless_part(), 0,
                              &full_state_)
        .throw_if_error();
  return full_state_;
}

DownloadKind Broadcaster::choose(int64_t client, int rank, size_t full_bytes, int64_t* base) const {
  if (const auto b = delta_base(client, rank); b && steps_bytes_since(*b) < full_bytes) {
    *base = *b;
    return DownloadKind::kDelta;
  }
  if (can_seed(rank) && steps_bytes_since(seed_->version) < full_bytes) {
    *base = seed_->version;
    return DownloadKind::kSeeded;
  }
  return DownloadKind::kFull;
}

Bytes Broadcaster::frame_for(int64_t client, int rank, uint32_t round,
                             const protocol::TrainTask& task, const std::string& spec_json,
                             const StateLayout& layout, DownloadKind* kind_out) {
  int64_t base = -1;
  const auto kind = choose(client, rank, spec_json.size() + full_state(layout).size(), &base);
  Bytes payload;
  ByteWriter w(&payload);
  task.write(w);
  FrameKind frame_kind = FrameKind::kDelta;
  if (kind == DownloadKind::kFull) {
    frame_kind = FrameKind::kModel;
    w.put_string(spec_json);
    w.put_bytes(full_state_.data(), full_state_.size());
  } else {
    if (kind == DownloadKind::kSeeded) {
      frame_kind = FrameKind::kSeededModel;
      w.put_string(spec_json);
      w.put_u64(seed_->seed);
      w.put_u32(seed_->crc);
    }
    w.put_u32(static_cast<uint32_t>(base));
    append_steps_since(base, w);
  }
  if (kind_out) *kind_out = kind;
  if (kind == DownloadKind::kSeeded) rank_seeded_.at(rank) = 1;
  protocol::FrameHeader h{frame_kind, round, 0, static_cast<uint32_t>(client),
                          static_cast<uint32_t>(version_),
                          kind == DownloadKind::kFull ? downlink_.lossless_part().codec_ids()
                                                      : downlink_.codec_ids()};
  return protocol::encode_frame(h, payload);
}

void Broadcaster::mark_sent(int64_t client, int rank) {
  client_version_.at(client) = version_;
  rank_version_.at(rank) = version_;
}

void Broadcaster::forget_rank(int rank) { rank_version_.at(rank) = -1; }

void Broadcaster::task_failed(int rank) {
  forget_rank(rank);
  if (rank_seeded_.at(rank)) rank_no_seed_.at(rank) = 1;
}

}  // namespace xfed::coordinator
