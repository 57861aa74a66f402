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

namespace torch::jit {
struct Module;
}

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
  bool is_chain() const { return blocker.empty(); }
  // flatten(1, -1), then Linear (with bias) and ReLU alternating, ending in a Linear.
  bool is_linear_relu_chain() const;
};

ScriptedChain scripted_chain(const torch::jit::Module& module);

}  // namespace xfed
