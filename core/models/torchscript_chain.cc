#include "core/models/torchscript_chain.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>

#include <map>
#include <set>

namespace xfed {
namespace {

using torch::jit::Node;
using torch::jit::Value;
using Kind = ChainLayer::Kind;

std::string where(const Node* n) {
  std::string s = n->kind().toQualString();
  if (const auto at = n->sourceRange().file_line_col())
    s += " (" + std::get<0>(*at) + ":" + std::to_string(std::get<1>(*at)) + ")";
  return s;
}

// Reading shapes (the dimension count BatchNorm checks, a size for an error message) takes
// nothing from the data.
bool is_shape_query(const Node* n) {
  static const std::set<std::string> queries{"aten::dim", "aten::size", "aten::len"};
  return queries.count(n->kind().toQualString()) > 0;
}

const std::map<std::string, Kind>& known_ops() {
  static const std::map<std::string, Kind> ops{
      {"aten::flatten", Kind::kFlatten},       {"aten::linear", Kind::kLinear},
      {"aten::conv2d", Kind::kConv2d},         {"aten::batch_norm", Kind::kBatchNorm},
      {"aten::relu", Kind::kRelu},             {"aten::relu_", Kind::kRelu},
      {"aten::sigmoid", Kind::kElementwise},   {"aten::tanh", Kind::kElementwise},
      {"aten::leaky_relu", Kind::kElementwise}, {"aten::gelu", Kind::kElementwise},
      {"aten::elu", Kind::kElementwise},       {"aten::silu", Kind::kElementwise},
      {"aten::hardtanh", Kind::kElementwise},  {"aten::relu6", Kind::kElementwise},
      {"aten::max_pool2d", Kind::kPool},       {"aten::avg_pool2d", Kind::kPool},
      {"aten::adaptive_avg_pool2d", Kind::kPool}, {"aten::dropout", Kind::kDropout},
      {"aten::dropout_", Kind::kDropout},      {"aten::feature_dropout", Kind::kDropout}};
  return ops;
}

class ChainReader {
 public:
  // Every layer's output, in order (valid once read() found a chain).
  const std::vector<Value*>& outputs() const { return outputs_; }

  ScriptedChain read(torch::jit::Graph& graph) {
    paths_[graph.inputs().at(0)] = "";
    cur_ = graph.inputs().at(1);
    for (Node* n : graph.nodes()) {
      if (!visit(n)) return out_;
    }
    if (out_.layers.empty()) return blocked("the forward computes nothing from its input that xfed knows");
    if (graph.outputs().size() != 1 || graph.outputs()[0] != cur_)
      return blocked("the forward returns something other than its last layer's output");
    return out_;
  }

 private:
  ScriptedChain blocked(const std::string& why) {
    out_.blocker = why;
    return out_;
  }

  bool visit(Node* n) {
    const std::string kind = n->kind().toQualString();
    if (kind == "prim::Constant") return true;
    if (kind == "prim::GetAttr") {
      const auto owner = paths_.find(n->input(0));
      if (owner != paths_.end())
        paths_[n->output()] = (owner->second.empty() ? "" : owner->second + ".") + n->s(torch::jit::attr::name);
      return true;
    }
    if (const auto* earlier = uses(n, earlier_)) {
      blocked(where(n) + " uses the output of an earlier layer again (" + earlier->debugName() +
              "): not a chain");
      return false;
    }
    if (!uses(n, {cur_})) return true;  // checks and counters beside the data
    if (is_shape_query(n)) return true;
    if (n->blocks().size() > 0) return visit_branch(n);
    return visit_layer(n, kind);
  }

  // A branch that only checks shapes (BatchNorm's "expected 4D input") and yields nothing.
  bool visit_branch(Node* n) {
    if (n->outputs().size() == 0 && only_queries_cur(n)) return true;
    blocked(where(n) + " branches on the data: not a chain");
    return false;
  }

  bool only_queries_cur(const Node* n) const {
    for (const auto* block : n->blocks())
      for (const auto* inner : block->nodes()) {
        for (const auto* v : inner->inputs())
          if (v == cur_ && !is_shape_query(inner)) return false;
        if (!inner->blocks().empty() && !only_queries_cur(inner)) return false;
      }
    return true;
  }

  bool visit_layer(Node* n, const std::string& kind) {
    const auto it = known_ops().find(kind);
    if (it == known_ops().end() || n->input(0) != cur_ || n->outputs().size() != 1) {
      blocked(where(n) + " is an operation on the data that xfed cannot prove safe to prune");
      return false;
    }
    ChainLayer layer{it->second, kind, "", false, false};
    if (!describe(n, &layer)) return false;
    out_.layers.push_back(layer);
    outputs_.push_back(n->output());
    earlier_.insert(cur_);
    cur_ = n->output();
    return true;
  }

  bool describe(Node* n, ChainLayer* layer) {
    switch (layer->kind) {
      case Kind::kFlatten:
        layer->flattens_all = constant_int(n->input(1)) == 1 && constant_int(n->input(2)) == -1;
        return true;
      case Kind::kConv2d:
        if (constant_int(n->input(6)) != 1) {
          blocked(where(n) + " is a grouped convolution");
          return false;
        }
        [[fallthrough]];
      case Kind::kLinear:
      case Kind::kBatchNorm:
        return owner_of_weights(n, layer);
      default:
        return true;
    }
  }

  // linear/conv2d/batch_norm(x, weight, bias, ...): the weight is SUBMODULE.weight; the bias
  // is SUBMODULE.bias or None.
  bool owner_of_weights(Node* n, ChainLayer* layer) {
    const auto weight = paths_.find(n->input(1));
    const std::string suffix = ".weight";
    if (weight == paths_.end() || weight->second.size() <= suffix.size() ||
        weight->second.compare(weight->second.size() - suffix.size(), suffix.size(), suffix) != 0) {
      blocked(where(n) + " takes a weight that is not a submodule's parameter");
      return false;
    }
    layer->module = weight->second.substr(0, weight->second.size() - suffix.size());
    const auto bias = paths_.find(n->input(2));
    layer->has_bias = bias != paths_.end() && bias->second == layer->module + ".bias";
    if (!layer->has_bias && !n->input(2)->type()->cast<c10::NoneType>()) {
      blocked(where(n) + " takes a bias that is not " + layer->module + ".bias");
      return false;
    }
    return true;
  }

  static int64_t constant_int(const Value* v) {
    const auto c = torch::jit::toIValue(v);
    return c && c->isInt() ? c->toInt() : INT64_MIN;
  }

  // The first of `values` that `n` (or a node inside its blocks) reads, or null.
  static const Value* uses(const Node* n, const std::set<const Value*>& values) {
    for (const auto* v : n->inputs())
      if (values.count(v)) return v;
    for (const auto* block : n->blocks())
      for (const auto* inner : block->nodes())
        if (const auto* v = uses(inner, values)) return v;
    return nullptr;
  }

  ScriptedChain out_;
  std::vector<Value*> outputs_;
  std::map<const Value*, std::string> paths_;  // module and tensor attributes by path
  const Value* cur_ = nullptr;                  // the data: the last layer's output
  std::set<const Value*> earlier_;              // what earlier layers produced
};

bool draws_random_numbers(const torch::jit::Block& block) {
  static const char* kRandom[] = {"dropout", "rand", "bernoulli", "normal", "multinomial", "uniform",
                                  "exponential", "poisson", "cauchy", "geometric"};
  for (const auto* n : block.nodes()) {
    const std::string kind = n->kind().toQualString();
    for (const char* r : kRandom)
      if (kind.find(r) != std::string::npos) return true;
    for (const auto* inner : n->blocks())
      if (draws_random_numbers(*inner)) return true;
  }
  return false;
}

}  // namespace

bool ScriptedChain::is_linear_relu_chain() const {
  if (!is_chain() || layers.size() < 2 || layers[0].kind != Kind::kFlatten || !layers[0].flattens_all) return false;
  for (size_t i = 1; i < layers.size(); ++i) {
    const bool linear_turn = i % 2 == 1;
    const auto& l = layers[i];
    if (linear_turn ? (l.kind != Kind::kLinear || !l.has_bias) : l.kind != Kind::kRelu) return false;
  }
  return layers.back().kind == Kind::kLinear;
}

ScriptedChain scripted_chain(const torch::jit::Module& module) {
  const auto method = module.find_method("forward");
  if (!method) return {{}, "the module has no forward method", nullptr};
  auto graph = method->graph()->copy();
  if (graph->inputs().size() != 2) return {{}, "forward takes other than one input", nullptr};
  torch::jit::Inline(*graph);
  torch::jit::ConstantPropagation(graph);
  ChainReader reader;
  auto chain = reader.read(*graph);
  chain.draws_random_numbers = draws_random_numbers(*graph->block());
  if (!chain.is_chain()) return chain;
  auto* every = graph->createTuple(reader.outputs());
  graph->appendNode(every);
  graph->eraseOutput(0);
  graph->registerOutput(every->output());
  chain.every_output = std::make_shared<torch::jit::GraphFunction>("every_output", graph, nullptr);
  return chain;
}

}  // namespace xfed
