#include "core/model_state.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cstdio>

#include "core/check.h"
#include "core/coding.h"

namespace xfed {
namespace {

// The tensors of the state, in layout order (parameters, then floating buffers).
std::vector<at::Tensor> state_tensors(NetImpl& net, StateLayout* layout) {
  std::vector<at::Tensor> out;
  for (const auto& item : net.named_parameters(true)) {
    out.push_back(item.value());
    if (layout) layout->add(item.key(), item.value().sizes().vec(), false);
  }
  for (const auto& item : net.named_buffers(true)) {
    if (!item.value().is_floating_point()) continue;  // e.g. BN num_batches_tracked
    out.push_back(item.value());
    if (layout) layout->add(item.key(), item.value().sizes().vec(), true);
  }
  return out;
}

}  // namespace

StateLayout layout_of(NetImpl& net) {
  StateLayout layout;
  state_tensors(net, &layout);
  return layout;
}

at::Tensor read_state(NetImpl& net) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> flat;
  for (const auto& t : state_tensors(net, nullptr)) flat.push_back(t.detach().reshape({-1}));
  return at::cat(flat).to(at::kFloat).contiguous();
}

void write_state(NetImpl& net, const at::Tensor& flat) {
  torch::NoGradGuard no_grad;
  auto tensors = state_tensors(net, nullptr);
  int64_t offset = 0;
  for (auto& t : tensors) {
    const int64_t n = t.numel();
    XFED_CHECK_LE(offset + n, flat.numel(), "write_state: flat state too short");
    t.copy_(flat.narrow(0, offset, n).view(t.sizes()));
    offset += n;
  }
  XFED_CHECK_EQ(offset, flat.numel(), "write_state: flat state has extra elements");
}

std::string state_checksum(const at::Tensor& flat) {
  const auto c = flat.contiguous();
  const auto* p = static_cast<const uint8_t*>(c.data_ptr());
  const size_t n = c.numel() * c.element_size();
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace xfed

namespace xfed {

uint32_t state_crc(const at::Tensor& flat) {
  const auto c = flat.contiguous();
  return crc32_of(static_cast<const uint8_t*>(c.data_ptr()), c.numel() * c.element_size());
}

void put_floats(ByteWriter& w, const at::Tensor& t) {
  if (!t.defined()) return w.put_varint(0);
  const auto c = t.to(at::kFloat).contiguous();
  w.put_varint(static_cast<uint64_t>(c.numel()));
  w.put_bytes(c.data_ptr<float>(), c.numel() * sizeof(float));
}

bool get_floats(ByteReader& r, at::Tensor* t) {
  uint64_t n;
  if (!r.get_varint(&n) || n > r.remaining() / sizeof(float)) return false;
  *t = at::empty({static_cast<int64_t>(n)}, at::kFloat);
  return n == 0 || r.get_bytes(t->data_ptr<float>(), n * sizeof(float));
}

}  // namespace xfed
