// What xfed proves of a scripted forward (core/models/torchscript_chain.h), on modules
// defined here in TorchScript's own language, as torch.jit.script writes them: submodules
// with their parameters, called from the parent's forward.
#include <gtest/gtest.h>
#include <torch/script.h>

#include "core/models/torchscript_chain.h"

namespace xfed {
namespace {

using Kind = ChainLayer::Kind;

torch::jit::Module linear(const std::string& type, int64_t in, int64_t out, bool bias = true) {
  torch::jit::Module m(type);
  m.register_parameter("weight", at::randn({out, in}), false);
  if (bias) m.register_parameter("bias", at::randn({out}), false);
  m.define(bias ? "def forward(self, x):\n  return torch.linear(x, self.weight, self.bias)\n"
                : "def forward(self, x):\n  return torch.linear(x, self.weight, None)\n");
  return m;
}

torch::jit::Module conv(const std::string& type, int64_t in, int64_t out) {
  torch::jit::Module m(type);
  m.register_parameter("weight", at::randn({out, in, 3, 3}), false);
  m.register_parameter("bias", at::randn({out}), false);
  m.define("def forward(self, x):\n  return torch.conv2d(x, self.weight, self.bias, [1, 1], [0, 0], [1, 1], 1)\n");
  return m;
}

// A module with fc1 (784 -> 64), fc2 (64 -> 10) and the given forward.
torch::jit::Module two_linears(const std::string& type, const std::string& forward) {
  torch::jit::Module m(type);
  m.register_module("fc1", linear(type + "Fc1", 784, 64));
  m.register_module("fc2", linear(type + "Fc2", 64, 10));
  m.define(forward);
  return m;
}

std::vector<Kind> kinds(const ScriptedChain& c) {
  std::vector<Kind> out;
  for (const auto& l : c.layers) out.push_back(l.kind);
  return out;
}

TEST(ScriptedChain, SubmodulesCalledInOrderAreAChainOfTheirLayers) {
  auto m = two_linears("Mlp", "def forward(self, x):\n  return self.fc2.forward(torch.relu(self.fc1.forward(x.flatten(1))))\n");
  const auto chain = scripted_chain(m);
  ASSERT_TRUE(chain.is_chain()) << chain.blocker;
  EXPECT_EQ(kinds(chain), (std::vector<Kind>{Kind::kFlatten, Kind::kLinear, Kind::kRelu, Kind::kLinear}));
  EXPECT_EQ(chain.layers[1].module, "fc1");
  EXPECT_EQ(chain.layers[3].module, "fc2");
  EXPECT_TRUE(chain.layers[1].has_bias);
  EXPECT_TRUE(chain.is_linear_relu_chain());
  const auto out = m.forward({at::zeros({2, 1, 28, 28})}).toTensor();
  EXPECT_EQ(out.sizes(), (at::IntArrayRef{2, 10})) << "the module itself is unchanged and runs";
}

TEST(ScriptedChain, AConvolutionalChainIsAChainButNotAnMlp) {
  torch::jit::Module m("Cnn");
  m.register_attribute("training", c10::BoolType::get(), true);
  m.register_module("conv", conv("CnnConv", 1, 4));
  m.register_module("fc", linear("CnnFc", 4 * 13 * 13, 10));
  m.define(
      "def forward(self, x):\n"
      "  h = torch.max_pool2d(torch.relu(self.conv.forward(x)), [2, 2])\n"
      "  return self.fc.forward(torch.flatten(torch.dropout(h, 0.1, self.training), 1))\n");
  const auto chain = scripted_chain(m);
  ASSERT_TRUE(chain.is_chain()) << chain.blocker;
  EXPECT_EQ(kinds(chain), (std::vector<Kind>{Kind::kConv2d, Kind::kRelu, Kind::kPool, Kind::kDropout, Kind::kFlatten,
                                             Kind::kLinear}));
  EXPECT_EQ(chain.layers[0].module, "conv");
  EXPECT_FALSE(chain.is_linear_relu_chain());
}

TEST(ScriptedChain, WhatIsNotAProvableChainNamesTheNodeThatBlocksIt) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"def forward(self, x):\n  return self.fc2.forward(torch.relu(self.fc1.forward(x.flatten(1)))) + x.flatten(1)[:, :10]\n",
       "uses the output of an earlier layer again"},
      {"def forward(self, x):\n  return self.fc2.forward(torch.relu(self.fc1.forward(x.view(-1, 784))))\n",
       "aten::view"},
      {"def forward(self, x):\n  h = torch.relu(self.fc1.forward(x.flatten(1)))\n  return self.fc2.forward(h) + h[:, :10]\n",
       "uses the output of an earlier layer again"},
      {"def forward(self, x):\n  return self.fc2.forward(torch.relu(self.fc1.forward(x.flatten(1)))) * 2.0\n", "aten::mul"},
      {"def forward(self, x):\n  h = self.fc1.forward(x.flatten(1))\n  if bool(h.sum() > 0):\n    h = torch.relu(h)\n"
       "  return self.fc2.forward(h)\n",
       "aten::sum"},
      {"def forward(self, x):\n  return torch.zeros([2, 10])\n", "computes nothing from its input"}};
  int i = 0;
  for (const auto& [forward, words] : cases) {
    auto m = two_linears("Blocked" + std::to_string(i++), forward);
    const auto chain = scripted_chain(m);
    EXPECT_FALSE(chain.is_chain()) << forward;
    EXPECT_NE(chain.blocker.find(words), std::string::npos) << forward << "\n" << chain.blocker;
    EXPECT_FALSE(chain.is_linear_relu_chain());
  }
}

TEST(ScriptedChain, AnMlpNeedsBiasesReluAndAFullFlatten) {
  const std::vector<std::string> forwards{
      "def forward(self, x):\n  return self.fc2.forward(torch.sigmoid(self.fc1.forward(x.flatten(1))))\n",
      "def forward(self, x):\n  return self.fc2.forward(torch.relu(self.fc1.forward(x.flatten(1))).relu())\n",
      "def forward(self, x):\n  return self.fc2.forward(torch.relu(self.fc1.forward(x.flatten(2).flatten(1))))\n"};
  int i = 0;
  for (const auto& forward : forwards) {
    auto m = two_linears("NotMlp" + std::to_string(i++), forward);
    const auto chain = scripted_chain(m);
    EXPECT_TRUE(chain.is_chain()) << forward << chain.blocker;
    EXPECT_FALSE(chain.is_linear_relu_chain()) << forward;
  }
  torch::jit::Module m("NoBias");
  m.register_module("fc1", linear("NoBiasFc1", 784, 64, /*bias=*/false));
  m.register_module("fc2", linear("NoBiasFc2", 64, 10));
  m.define("def forward(self, x):\n  return self.fc2.forward(torch.relu(self.fc1.forward(x.flatten(1))))\n");
  const auto chain = scripted_chain(m);
  ASSERT_TRUE(chain.is_chain()) << chain.blocker;
  EXPECT_FALSE(chain.layers[1].has_bias);
  EXPECT_FALSE(chain.is_linear_relu_chain());
}

}  // namespace
}  // namespace xfed
