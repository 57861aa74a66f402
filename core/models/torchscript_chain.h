// What xfed can prove of a TorchScript model's forward: a chain of known layers from the
// input to the output, each consuming the previous layer's output and nothing computed from
// the input used twice (no skip connection, no branch on the data). Read from the forward's
// graph after inlining the submodules' calls and folding constants: what nn.Sequential
// scripts to, and what a module of named submodules called in order scripts or traces to.
// Pure reading: the module is not changed. Anything else leaves `blocker` saying which node
// (its kind and source line) stops the proof.
#pragma once

#include <string>
#include <vector>

#include <cstdint>
#include <memory>

namespace torch::jit {
struct Module;
struct Graph;
struct GraphFunction;
}  // namespace torch::jit

namespace xfed {

struct ChainLayer {
  enum class Kind { kFlatten, kLinear, kConv2d, kBatchNorm, kRelu, kElementwise, kPool, kDropout };
  Kind kind;
  std::string op;      // the aten op ("aten::linear", "aten::max_pool2d", ...)
  std::string module;  // linear, conv2d, batch_norm: the submodule whose tensors it uses ("fc1", "0")
  bool has_bias = false;  // linear, conv2d
  bool flattens_all = false;  // flatten: from dimension 1 to the last
};

struct ScriptedChain {
  std::vector<ChainLayer> layers;
  std::string blocker;  // empty: the forward is exactly `layers`
  // A chain's forward that returns every layer's output (a tuple, layer by layer; the last is
  // the model's output): taps for the class statistics, shapes for FLOPs. Called with
  // (module, input). Null unless is_chain().
  std::shared_ptr<torch::jit::GraphFunction> every_output;
  bool draws_random_numbers = false;  // dropout, rand*, bernoulli, normal, ... anywhere in the forward
  bool is_chain() const { return blocker.empty(); }
  // flatten(1, -1), then Linear (with bias) and ReLU alternating, ending in a Linear.
  bool is_linear_relu_chain() const;
};

ScriptedChain scripted_chain(const torch::jit::Module& module);

// What structured pruning needs of a chain: its Linear and Conv2d layers but the last (which
// gives the classes) are prunable, in the order they run; each unit owns its row of the
// layer's weight and bias, its entries in a BatchNorm that follows, and its columns of the
// next Linear/Conv2d (H*W of them across a flatten). Tensor names are module paths
// ("fc1.weight"). Refused, in `blocker`, where that is not provably all: fewer than two such
// layers, a module called twice, a Linear feeding a Conv2d, BatchNorm after a flatten, a
// consumer whose inputs are not a whole multiple of the units.
struct ChainBinding {
  std::string tensor;
  int dim = 0;
  int layer = 0;
  int64_t block = 1;
};
struct ChainPruning {
  std::vector<std::string> layer_modules;  // prunable layers' modules, in order
  std::vector<int64_t> units;
  std::vector<size_t> tap;                 // per prunable layer: the chain layer whose output is its tap
  std::vector<ChainBinding> bindings;
  std::string blocker;
};
ChainPruning chain_pruning(const ScriptedChain& chain, const torch::jit::Module& module);
// Narrows every bound tensor of `module` to widths[layer] units (its first ones): the shapes
// of the pruned model, whose values surgery writes. The scripted code runs on them as is.
void narrow_chain(torch::jit::Module& module, const ChainPruning& pruning, const std::vector<int64_t>& widths);

}  // namespace xfed
