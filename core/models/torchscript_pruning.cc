// chain_pruning (core/models/torchscript_chain.h): the prunable layers of a proven chain and
// the tensor dimensions their units index.
#include <torch/script.h>

#include <set>

#include "core/models/torchscript_chain.h"

namespace xfed {
namespace {

using Kind = ChainLayer::Kind;

// The tensor at a dotted path ("features.0.weight"); undefined if there is none.
at::Tensor tensor_at(const torch::jit::Module& module, const std::string& path) {
  torch::jit::Module owner = module;
  size_t start = 0;
  for (size_t dot = path.find('.'); dot != std::string::npos; start = dot + 1, dot = path.find('.', start)) {
    const auto part = path.substr(start, dot - start);
    if (!owner.hasattr(part) || !owner.attr(part).isModule()) return {};
    owner = owner.attr(part).toModule();
  }
  const auto last = path.substr(start);
  if (!owner.hasattr(last) || !owner.attr(last).isTensor()) return {};
  return owner.attr(last).toTensor();
}

// Replaces the tensor at a dotted path (which tensor_at found).
void set_tensor_at(torch::jit::Module& module, const std::string& path, const at::Tensor& t) {
  const auto dot = path.rfind('.');
  if (dot == std::string::npos) return module.setattr(path, t);
  auto owner = module.attr(path.substr(0, path.find('.'))).toModule();
  set_tensor_at(owner, path.substr(path.find('.') + 1), t);
}

bool is_weighted(Kind k) { return k == Kind::kLinear || k == Kind::kConv2d; }

class PruningReader {
 public:
  PruningReader(const ScriptedChain& chain, const torch::jit::Module& module) : chain_(chain), module_(module) {}

  ChainPruning read() {
    std::vector<size_t> weighted;
    std::set<std::string> modules;
    for (size_t i = 0; i < chain_.layers.size(); ++i) {
      if (!is_weighted(chain_.layers[i].kind)) continue;
      if (!modules.insert(chain_.layers[i].module).second)
        return blocked("module " + chain_.layers[i].module + " is called twice: its units are not one layer's");
      weighted.push_back(i);
    }
    if (weighted.size() < 2)
      return blocked("fewer than two Linear/Conv2d layers: nothing to prune (the last one gives the classes)");
    for (size_t j = 0; j + 1 < weighted.size(); ++j)
      if (!bind_layer(static_cast<int>(j), weighted[j], weighted[j + 1])) return out_;
    return out_;
  }

 private:
  ChainPruning blocked(const std::string& why) {
    out_.blocker = why;
    return out_;
  }

  // Prunable layer `j` is chain layer `own`; chain layer `next` consumes its units.
  bool bind_layer(int j, size_t own, size_t next) {
    const auto& layer = chain_.layers[own];
    const auto& consumer = chain_.layers[next];
    const auto weight = tensor_at(module_, layer.module + ".weight");
    const auto next_weight = tensor_at(module_, consumer.module + ".weight");
    if (!weight.defined() || !next_weight.defined()) {
      blocked(layer.module + ": no weight tensor");
      return false;
    }
    if (layer.kind == Kind::kLinear && consumer.kind == Kind::kConv2d) {
      blocked(layer.module + " (Linear) feeds " + consumer.module + " (Conv2d): not provably channel for channel");
      return false;
    }
    const int64_t units = weight.size(0);
    out_.layer_modules.push_back(layer.module);
    out_.units.push_back(units);
    out_.bindings.push_back({layer.module + ".weight", 0, j, 1});
    if (layer.has_bias) out_.bindings.push_back({layer.module + ".bias", 0, j, 1});
    if (!bind_between(j, own, next)) return false;
    const int64_t inputs = next_weight.size(1);
    if (inputs % units != 0) {
      blocked(consumer.module + " takes " + std::to_string(inputs) + " inputs, not a multiple of " + layer.module +
              "'s " + std::to_string(units) + " units");
      return false;
    }
    if (consumer.kind == Kind::kConv2d && inputs != units) {
      blocked(consumer.module + " takes " + std::to_string(inputs) + " channels, " + layer.module + " gives " +
              std::to_string(units));
      return false;
    }
    out_.bindings.push_back({consumer.module + ".weight", 1, j, inputs / units});
    return true;
  }

  // The layers between a prunable layer and its consumer: BatchNorm takes the units' entries;
  // the tap is after the BatchNorm and activations that follow the layer directly.
  bool bind_between(int j, size_t own, size_t next) {
    size_t tap = own;
    bool flattened = false, adjacent = true;
    for (size_t k = own + 1; k < next; ++k) {
      const auto& l = chain_.layers[k];
      if (l.kind == Kind::kFlatten) flattened = true;
      if (l.kind == Kind::kBatchNorm) {
        if (flattened) {
          blocked(l.module + ": BatchNorm after a flatten, over positions as well as channels");
          return false;
        }
        for (const char* t : {".weight", ".bias", ".running_mean", ".running_var"})
          if (tensor_at(module_, l.module + t).defined()) out_.bindings.push_back({l.module + t, 0, j, 1});
      }
      adjacent = adjacent && (l.kind == Kind::kBatchNorm || l.kind == Kind::kRelu || l.kind == Kind::kElementwise);
      if (adjacent) tap = k;
    }
    out_.tap.push_back(tap);
    return true;
  }

  const ScriptedChain& chain_;
  const torch::jit::Module& module_;
  ChainPruning out_;
};

}  // namespace

void narrow_chain(torch::jit::Module& module, const ChainPruning& pruning, const std::vector<int64_t>& widths) {
  TORCH_CHECK(widths.size() == pruning.units.size(), "narrow_chain: one width per prunable layer");
  for (const auto& b : pruning.bindings) {
    const auto t = tensor_at(module, b.tensor);
    TORCH_CHECK(widths[b.layer] >= 1 && widths[b.layer] * b.block <= t.size(b.dim), "narrow_chain: ", b.tensor,
                " has no ", widths[b.layer], " units");
    auto narrowed = t.detach().narrow(b.dim, 0, widths[b.layer] * b.block).clone();
    set_tensor_at(module, b.tensor, narrowed.set_requires_grad(t.requires_grad()));
  }
}

ChainPruning chain_pruning(const ScriptedChain& chain, const torch::jit::Module& module) {
  if (!chain.is_chain()) return {{}, {}, {}, {}, chain.blocker};
  return PruningReader(chain, module).read();
}

}  // namespace xfed
