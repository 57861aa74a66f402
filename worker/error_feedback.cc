#include "worker/error_feedback.h"

#include <ATen/ATen.h>

#include "compression/state_codec.h"

namespace xfed::worker {

ClientState& ClientStateStore::get(int64_t client, int64_t numel, bool with_velocity) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& s = states_[client];
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
