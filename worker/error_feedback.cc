#include "worker/error_feedback.h"

#include <ATen/ATen.h>

#include "compression/state_codec.h"
#include "core/model_state.h"
#include "pruning/surgery.h"

namespace xfed::worker {

void ClientStateStore::catch_up(ClientState& s) {
  for (int64_t v = s.structure_version + 1; v <= structure_version_ && s.residual.defined(); ++v) {
    const auto it = gathers_.find(v);
    if (it == gathers_.end()) {
      s.residual = s.velocity = at::Tensor();  // a plan we never saw: start afresh
      break;
    }
    s.residual = pruning::slice_flat(s.residual, it->second);
    if (s.velocity.defined()) s.velocity = pruning::slice_flat(s.velocity, it->second);
  }
  s.structure_version = structure_version_;
}

Status ClientStateStore::add_plan(const pruning::StructurePlan& plan) {
  std::lock_guard<std::mutex> lock(mu_);
  if (gathers_.count(plan.version)) return Status::ok();  // another worker thread did it
  auto gather = pruning::flat_gather_index(*make_model(plan.from), plan);
  if (!gather) return gather.status();
  gathers_[plan.version] = gather.value();
  structure_version_ = std::max(structure_version_, plan.version);
  return Status::ok();
}

int64_t ClientStateStore::structure_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return structure_version_;
}

bool ClientStateStore::claim_save(int64_t round) {
  std::lock_guard<std::mutex> lock(mu_);
  if (round <= saved_round_) return false;
  saved_round_ = round;
  return true;
}

ClientState& ClientStateStore::get(int64_t client, int64_t numel, bool with_velocity) {
  std::lock_guard<std::mutex> lock(mu_);
  return state_of(client, numel, with_velocity);
}

ClientStateStore::Lease ClientStateStore::lease(int64_t client, int64_t numel, bool with_velocity) {
  std::lock_guard<std::mutex> lock(mu_);
  ++leases_;
  return Lease(*this, state_of(client, numel, with_velocity));
}

void ClientStateStore::release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --leases_;
  }
  released_.notify_all();
}

std::unique_lock<std::mutex> ClientStateStore::lock_unleased() {
  std::unique_lock<std::mutex> lock(mu_);
  released_.wait(lock, [&] { return leases_ == 0; });
  return lock;
}

ClientState& ClientStateStore::state_of(int64_t client, int64_t numel, bool with_velocity) {
  const bool fresh = states_.find(client) == states_.end();
  auto& s = states_[client];
  if (fresh) s.structure_version = structure_version_;
  catch_up(s);
  if (!s.residual.defined() || s.residual.numel() != numel) {
    s.residual = at::zeros({numel}, at::kFloat);
    s.velocity = at::Tensor();
  }
  if (with_velocity && !s.velocity.defined()) s.velocity = at::zeros({numel}, at::kFloat);
  return s;
}

size_t ClientStateStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return states_.size();
}

Bytes ClientStateStore::serialize() {
  const auto lock = lock_unleased();
  Bytes out;
  ByteWriter w(&out);
  w.put_u64(static_cast<uint64_t>(structure_version_));
  w.put_varint(states_.size());
  std::map<int64_t, const ClientState*> ordered;  // a stable file for the same state
  for (auto& [client, s] : states_) {
    catch_up(s);
    ordered[client] = &s;
  }
  for (const auto& [client, s] : ordered) {
    w.put_u64(static_cast<uint64_t>(client));
    put_floats(w, s->residual);
    put_floats(w, s->velocity);
  }
  return out;
}

void ClientStateStore::reset(int64_t structure_version) {
  const auto lock = lock_unleased();
  clear(structure_version);
}

void ClientStateStore::clear(int64_t structure_version) {
  saved_round_ = -1;  // a resumed run saves its rounds again
  states_.clear();
  gathers_.clear();
  structure_version_ = structure_version;
}

Status ClientStateStore::restore(ByteReader& r) {
  const auto lock = lock_unleased();
  clear(0);
  uint64_t version, count;
  bool ok = r.get_u64(&version) && r.get_varint(&count) && count <= r.remaining();
  for (uint64_t i = 0; ok && i < count; ++i) {
    uint64_t client;
    ClientState s;
    s.structure_version = static_cast<int64_t>(version);
    ok = r.get_u64(&client) && get_floats(r, &s.residual) && get_floats(r, &s.velocity) &&
         (s.velocity.numel() == 0 || s.velocity.numel() == s.residual.numel());
    if (s.residual.numel() == 0) s.residual = at::Tensor();  // written as none
    if (s.velocity.numel() == 0) s.velocity = at::Tensor();
    if (ok) states_[static_cast<int64_t>(client)] = std::move(s);
  }
  if (!ok || !r.done()) {
    clear(0);
    return Status::error("truncated or malformed client state");
  }
  structure_version_ = static_cast<int64_t>(version);
  return Status::ok();
}

Result<CompressedUpdate> compress_update(const at::Tensor& delta, const StateLayout& layout,
                                         const compression::Pipeline& pipeline, uint64_t seed,
                                         bool enabled, double momentum, ClientState& state) {
  CompressedUpdate out;
  out.sent = at::empty_like(delta);
  const bool ef = enabled && !pipeline.lossless();
  at::Tensor v = delta;
  if (ef) {
    if (momentum > 0) {
      state.velocity.mul_(momentum).add_(delta);
      v = state.residual + state.velocity;
    } else {
      v = state.residual + delta;
    }
  }
  auto st = compression::encode_state(layout, v.data_ptr<float>(), pipeline, seed, &out.payload,
                                      out.sent.data_ptr<float>());
  if (!st) return st;
  if (ef) {
    at::sub_out(state.residual, v, out.sent);
    if (momentum > 0) state.velocity.masked_fill_(out.sent.ne(0), 0.0f);
  }
  return out;
}

}  // namespace xfed::worker
