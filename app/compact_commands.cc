#include "app/compact_commands.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/datasets.h"
#include "coordinator/model_file.h"
#include "core/file_io.h"
#include "core/model_state.h"
#include "deploy/compact_inference.h"
#include "deploy/export_compact.h"
#include "deploy/xdc_file.h"

namespace xfed::app {
namespace {

using deploy::CompactModel;

deploy::NamedArrays named_arrays(NetImpl& net) {
  deploy::NamedArrays state;
  for (const auto& p : net.named_parameters()) {
    const auto t = p.value().detach().contiguous().to(at::kFloat);
    state[p.key()] = std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  }
  return state;
}

std::string thousands(int64_t v) {
  std::string s = std::to_string(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0 && s[i - 1] != '-') out += ',';
    out += s[i];
  }
  return out;
}

void print_table(const CompactModel& model, int64_t dense_bytes, size_t file_bytes) {
  std::printf("%-10s %12s %-6s %10s %9s %8s %13s %13s %13s\n", "layer", "weights", "format", "bytes", "distinct",
              "entropy", "mults", "adds", "csr mults");
  int64_t mults = 0, adds = 0, csr = 0;
  for (const auto& l : model.layers) {
    const auto s = deploy::summarize(l);
    const std::string shape = std::to_string(s.rows) + "x" + std::to_string(s.cols);
    std::printf("%-10s %12s %-6s %10s %9lld %8.3f %13s %13s %13s\n", s.name.c_str(), shape.c_str(), s.format.c_str(),
                thousands(static_cast<int64_t>(s.bytes)).c_str(), static_cast<long long>(s.distinct), s.entropy_bits,
                thousands(s.ops.multiplications).c_str(), thousands(s.ops.additions).c_str(),
                thousands(s.csr_multiplications).c_str());
    mults += s.ops.multiplications, adds += s.ops.additions, csr += s.csr_multiplications;
  }
  std::printf("total: %s bytes (fp32 dense %s bytes: %.1fx smaller); one inference %s multiplications, %s additions "
              "(CSR: %s multiplications)\n",
              thousands(static_cast<int64_t>(file_bytes)).c_str(), thousands(dense_bytes).c_str(),
              static_cast<double>(dense_bytes) / static_cast<double>(file_bytes), thousands(mults).c_str(),
              thousands(adds).c_str(), thousands(csr).c_str());
}

nlohmann::json export_summary(const ExportConfig& c, const CompactModel& model, int64_t dense_bytes, size_t file_bytes) {
  int64_t csr = 0, weights = 0, nonzero = 0, biases = 0;
  for (const auto& l : model.layers) {
    const auto s = deploy::summarize(l);
    csr += s.csr_multiplications, nonzero += s.nonzero;
    weights += l.shape.out * l.shape.cols(), biases += l.shape.out;
  }
  const auto ops = deploy::model_operations(model);
  return {{"out", c.out}, {"bytes", file_bytes}, {"dense_fp32_bytes", dense_bytes}, {"layers", model.layers.size()},
          {"weights", weights}, {"nonzero_weights", nonzero}, {"biases", biases},
          {"ratio", static_cast<double>(dense_bytes) / static_cast<double>(file_bytes)},
          {"multiplications", ops.multiplications}, {"additions", ops.additions}, {"csr_multiplications", csr}};
}

// The test set as sample-major floats, `len` samples from `start`.
std::vector<float> images_of(const Dataset& d, int64_t start, int64_t len) {
  const auto t = d.images.narrow(0, start, len).contiguous().to(at::kFloat);
  return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}

struct Scores {
  double loss_sum = 0;
  int64_t correct = 0;
};

// Cross-entropy (float64 log-sum-exp) and top-1 hits (the first largest logit, as argmax).
void score(const std::vector<float>& logits, const at::Tensor& labels, int64_t classes, Scores* s) {
  const auto y = labels.to(at::kLong).contiguous();
  const int64_t* label = y.data_ptr<int64_t>();
  for (int64_t b = 0; b < y.numel(); ++b) {
    const float* z = logits.data() + b * classes;
    int64_t best = 0;
    for (int64_t k = 1; k < classes; ++k)
      if (z[k] > z[best]) best = k;
    double sum = 0;
    for (int64_t k = 0; k < classes; ++k) sum += std::exp(static_cast<double>(z[k]) - z[best]);
    s->loss_sum += std::log(sum) + z[best] - z[label[b]];
    s->correct += best == label[b];
  }
}

void check_input_shape(const EvalConfig& c, const ModelSpec& spec, const TrainTestData& data) {
  const auto& t = data.test;
  if (spec.in_channels != t.channels() || spec.height != t.height() || spec.width != t.width() || spec.classes != t.classes)
    throw UsageError(c.model_file + ": model expects " + std::to_string(spec.in_channels) + "x" +
                     std::to_string(spec.height) + "x" + std::to_string(spec.width) + " inputs and " +
                     std::to_string(spec.classes) + " classes; --dataset " + c.data.dataset + " has " +
                     std::to_string(t.channels()) + "x" + std::to_string(t.height()) + "x" +
                     std::to_string(t.width()) + " and " + std::to_string(t.classes));
}

}  // namespace

int export_command(const ExportConfig& c) {
  if (coordinator::is_torchscript_file(c.model_file))
    throw UsageError(c.model_file + ": a TorchScript archive; xfed export takes mlp and lenet5 models saved with --save-model");
  check_output_file(c.out, "--out").throw_as<UsageError>();
  const auto format = deploy::parse_format(c.format).value_or_throw<UsageError>();
  Net net = coordinator::load_model_file(c.model_file).value_or_throw<UsageError>();
  auto built = deploy::build_compact(net->spec(), named_arrays(*net), {format, c.bits});
  if (!built) built.status().prefixed(c.model_file).throw_as<UsageError>();
  const auto model = std::move(built).value();
  const Bytes bytes = deploy::encode_xdc(model);
  deploy::decode_xdc(bytes, c.out).value_or_throw();  // what we write, we can read
  write_file_atomically(c.out, bytes).throw_if_error();
  const int64_t dense_bytes = net->num_params() * 4;
  std::printf("xfed export: %s -> %s (%s, bits %d, format %s)\n", c.model_file.c_str(), c.out.c_str(),
              net->spec().arch.c_str(), c.bits, c.format.c_str());
  print_table(model, dense_bytes, bytes.size());
  std::cout << export_summary(c, model, dense_bytes, bytes.size()).dump() << std::endl;
  return 0;
}

int eval_compact_command(const EvalConfig& c) {
  const auto model = deploy::read_xdc_file(c.model_file).value_or_throw<UsageError>();
  const auto data = load_data(c.data);
  check_input_shape(c, model.spec, data);
  const auto& test = data.test;
  constexpr int64_t kBatch = 256;
  Scores scores;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < test.size(); i += kBatch) {
    const int64_t len = std::min(kBatch, test.size() - i);
    const auto logits = deploy::compact_logits(model, images_of(test, i, len), len).value_or_throw();
    score(logits, test.labels.narrow(0, i, len), model.spec.classes, &scores);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto ops = deploy::model_operations(model);
  const double n = std::max<int64_t>(test.size(), 1);
  nlohmann::json j{{"model", c.model_file}, {"dataset", data.name}, {"format", "xdc"},
                   {"test_accuracy", scores.correct / n}, {"test_loss", scores.loss_sum / n},
                   {"multiplications", ops.multiplications}, {"additions", ops.additions}, {"seconds", seconds}};
  std::cout << j.dump() << std::endl;
  return 0;
}

}  // namespace xfed::app
