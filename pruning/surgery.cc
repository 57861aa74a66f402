#include "pruning/surgery.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>


#include "core/model_state.h"

namespace xfed::pruning {
namespace {

// Row indices of dimension `dim` to keep: units expanded to their blocks.
at::Tensor expanded_index(const std::vector<int64_t>& kept, int64_t block) {
  std::vector<int64_t> idx;
  idx.reserve(kept.size() * block);
  for (auto u : kept)
    for (int64_t j = 0; j < block; ++j) idx.push_back(u * block + j);
  return at::tensor(idx, at::kLong);
}

// Named parameters then buffers, as (name, tensor).
std::vector<std::pair<std::string, at::Tensor>> named_state(NetImpl& model) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& p : model.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

Status check(NetImpl& model, const StructurePlan& plan) {
  if (plan.from != model.spec()) return Status::error("plan is for another model structure");
  return plan.validate(layer_units(model));
}

}  // namespace

at::Tensor slice_named(at::Tensor t, const std::string& name, const std::vector<AxisBinding>& bindings,
                       const StructurePlan& plan) {
  for (const auto& b : bindings)
    if (b.tensor == name) t = t.index_select(b.dim, expanded_index(plan.kept[b.layer], b.block));
  return t;
}

std::vector<int64_t> layer_units(const NetImpl& model) {
  std::vector<int64_t> u;
  for (const auto& l : model.prunable_layers()) u.push_back(l.units);
  return u;
}

Result<Net> apply_plan(NetImpl& model, const StructurePlan& plan) {
  if (auto st = check(model, plan); !st) return st;
  const auto bindings = model.axis_bindings();
  Net slim = make_model(model.spec_after(plan.kept));
  auto target = named_state(*slim);
  auto source = named_state(model);
  XFED_CHECK_EQ(target.size(), source.size(), "surgery: models differ in tensor count");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < source.size(); ++i) {
    XFED_CHECK_EQ(target[i].first, source[i].first, "surgery: tensor order");
    const auto sliced = slice_named(source[i].second, source[i].first, bindings, plan);
    XFED_CHECK(sliced.sizes() == target[i].second.sizes(), "surgery: " + source[i].first + " shape");
    target[i].second.copy_(sliced);
  }
  if (plan.patches.empty()) return slim;
  const auto layout = layout_of(*slim);
  auto flat = read_state(*slim);
  if (auto st = apply_patches(flat, layout, plan.patches); !st) return st;
  write_state(*slim, flat);
  return slim;
}

Result<at::Tensor> flat_gather_index(NetImpl& model, const StructurePlan& plan) {
  if (auto st = check(model, plan); !st) return st;
  const auto bindings = model.axis_bindings();
  const auto layout = layout_of(model);
  std::vector<at::Tensor> parts;
  for (const auto& slot : layout.slots) {
    auto positions = at::arange(slot.offset, slot.offset + slot.numel, at::kLong).view(slot.shape);
    positions = slice_named(positions, slot.name, bindings, plan);
    parts.push_back(positions.reshape({-1}));
  }
  return at::cat(parts);
}

at::Tensor slice_flat(const at::Tensor& old_flat, const at::Tensor& gather) {
  const int64_t n = old_flat.numel();
  // A prefix (parameters only) maps to the prefix of gather that stays inside it.
  const auto inside = gather.lt(n);
  const int64_t keep = inside.all().item<bool>() ? gather.numel() : inside.to(at::kLong).argmin().item<int64_t>();
  return old_flat.index_select(0, gather.narrow(0, 0, keep));
}

}  // namespace xfed::pruning

namespace xfed::pruning {
namespace {

const TensorSlot* find_slot(const StateLayout& layout, const std::string& name) {
  for (const auto& slot : layout.slots)
    if (slot.name == name) return &slot;
  return nullptr;
}

}  // namespace

Status apply_patches(at::Tensor& flat, const StateLayout& slim_layout, const std::vector<TensorPatch>& patches) {
  std::vector<int64_t> offsets;  // all checked before any is written
  for (const auto& p : patches) {
    const auto* slot = find_slot(slim_layout, p.tensor);
    if (!slot) return Status::corruption("plan refits tensor '" + p.tensor + "', which the pruned model lacks");
    if (static_cast<int64_t>(p.values.size()) != slot->numel || slot->offset + slot->numel > flat.numel())
      return Status::corruption("plan refits tensor '" + p.tensor + "' with " + std::to_string(p.values.size()) +
                                " values; it has " + std::to_string(slot->numel));
    offsets.push_back(slot->offset);
  }
  auto* data = flat.data_ptr<float>();
  for (size_t i = 0; i < patches.size(); ++i) std::copy(patches[i].values.begin(), patches[i].values.end(), data + offsets[i]);
  return Status::ok();
}

Result<at::Tensor> slice_and_patch(const at::Tensor& old_flat, const at::Tensor& gather,
                                   const StateLayout& slim_layout, const StructurePlan& plan) {
  auto flat = slice_flat(old_flat, gather).contiguous();
  if (auto st = apply_patches(flat, slim_layout, plan.patches); !st) return st;
  return flat;
}

}  // namespace xfed::pruning
