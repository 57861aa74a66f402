#include "worker/secure_client.h"

#include <ATen/ATen.h>

#include "core/rng.h"
#include "protocol/secagg_messages.h"
#include "secagg/fixed_point.h"

namespace xfed::worker {
namespace {

using protocol::FrameKind;

std::string client_name(int64_t c) { return "client " + std::to_string(c); }

// The client's rounding keystream: from the run seed, so that a run gives the same model on
// every transport (the rounding is unbiased either way; the masks are what hide the values).
// A stats round's keystream is another one.
SecretKey rounding_key(uint64_t run_seed, uint32_t round, int64_t client, bool statistics = false) {
  SecretKey base{};
  const uint64_t s = statistics ? mix_seed(run_seed, kStreamSecAggRounding, 1) : mix_seed(run_seed, kStreamSecAggRounding);
  for (int i = 0; i < 8; ++i) base[i] = static_cast<uint8_t>(s >> (8 * i));
  return derive_secret(base, round, static_cast<uint64_t>(client));
}

// What the coordinator may send a client: any id (it knows the federation's size; we don't).
protocol::SecAggBounds client_bounds(size_t length, int ring_bits) {
  return {int64_t{protocol::kNoClient}, length, ring_bits};
}

}  // namespace

Result<Bytes> SecureClients::begin(int64_t client, uint32_t round, const protocol::TrainTask& task,
                                   const at::Tensor& delta, const StateLayout& layout,
                                   const protocol::UpdateMeta& meta, ClientState& state) {
  const auto& sa = *task.secagg;
  const auto support = protocol::secagg_support(layout, task.uplink.ratio(), task.train.seed, round);
  auto params = protocol::secagg_round_params(sa, task.train.seed, round, support.size());
  if (auto st = params.numbers.check(); !st) return st;
  at::Tensor acc = delta.contiguous();
  if (task.error_feedback) {
    if (!state.residual.defined() || state.residual.numel() != acc.numel()) state.residual = at::zeros_like(acc);
    acc = acc + state.residual;
  }
  const float* a = acc.data_ptr<float>();
  std::vector<float> values(support.size());
  for (size_t i = 0; i < support.size(); ++i) values[i] = a[support[i]];
  auto encoded = secagg::encode(values, params.numbers, rounding_key(task.train.seed, round, client));
  if (task.error_feedback) {  // r = v − what the coordinator will decode of it
    auto residual = acc.clone();
    float* r = residual.data_ptr<float>();
    for (size_t i = 0; i < support.size(); ++i)
      r[support[i]] -= static_cast<float>(encoded[i] * params.numbers.step() - params.numbers.range);
    state.residual = residual;
  }
  return open(client, round, params, std::move(encoded), meta);
}

Result<Bytes> SecureClients::begin_statistics(int64_t client, uint32_t round, const protocol::TrainTask& task,
                                              const std::vector<double>& values, const protocol::UpdateMeta& meta) {
  const auto params = protocol::secagg_stats_params(*task.secagg, task.train.seed, round, values.size());
  if (auto st = params.numbers.check(); !st) return st;
  auto encoded = secagg::encode_f64(values, params.numbers, rounding_key(task.train.seed, round, client, true));
  return open(client, round, params, std::move(encoded), meta);
}

Bytes SecureClients::open(int64_t client, uint32_t round, const secagg::RoundParams& params,
                          std::vector<uint32_t> encoded, const protocol::UpdateMeta& meta) {
  auto session = std::make_shared<secagg::ClientSession>(client, params);
  Bytes payload;
  ByteWriter w(&payload);
  meta.write(w);
  protocol::write_advert(w, session->advertise());
  std::lock_guard<std::mutex> lock(mu_);
  pending_[client] = Pending{round, std::move(session), std::move(encoded), params.numbers.ring_bits};
  return payload;
}

Result<SecureClients::Pending> SecureClients::pending(int64_t client, uint32_t round) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = pending_.find(client);
  if (it == pending_.end() || it->second.round != round)
    return Status::stale("secure aggregation: " + client_name(client) + " holds no session of round " +
                         std::to_string(round));
  return it->second;
}

Result<Bytes> SecureClients::answer(const protocol::Frame& frame) {
  const auto& h = frame.header;
  auto got = pending(h.client, h.round);
  if (!got) return got.status();
  auto& p = got.value();
  auto r = frame.payload_reader();
  const auto bounds = client_bounds(p.encoded.size(), p.ring_bits);
  const auto malformed = [&](const char* what) {
    return Status::corruption(std::string("secure aggregation: malformed ") + what + " for " + client_name(h.client));
  };
  Bytes payload;
  ByteWriter w(&payload);
  if (h.kind == FrameKind::kSecAggKeys) {
    std::vector<secagg::KeyAdvert> adverts;
    if (!protocol::read_adverts(r, bounds, &adverts) || !r.done()) return malformed("adverts");
    auto shares = p.session->share_keys(adverts);
    if (!shares) return shares.status();
    protocol::write_sealed_shares(w, shares.value());
  } else if (h.kind == FrameKind::kSecAggShares) {
    std::vector<secagg::SealedShares> shares;
    if (!protocol::read_sealed_shares(r, bounds, &shares) || !r.done()) return malformed("shares");
    auto masked = p.session->mask_encoded(shares, p.encoded);
    if (!masked) return masked.status();
    protocol::write_masked_input(w, masked.value(), p.ring_bits);
  } else if (h.kind == FrameKind::kSecAggUnmask) {
    secagg::UnmaskRequest request;
    if (!protocol::read_unmask_request(r, bounds, &request) || !r.done()) return malformed("unmask request");
    auto reply = p.session->unmask(request);
    std::lock_guard<std::mutex> lock(mu_);
    pending_.erase(h.client);  // one answer per round, refused or not
    if (!reply) return reply.status();
    protocol::write_unmask_reply(w, reply.value());
  } else {
    return Status::corruption(std::string("secure aggregation: no step is a ") + protocol::frame_kind_name(h.kind) + " frame");
  }
  return payload;
}

size_t SecureClients::sessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

}  // namespace xfed::worker
