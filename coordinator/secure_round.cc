#include "coordinator/secure_round.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "core/parse.h"

namespace xfed::coordinator {

SecureRound::SecureRound(secagg::RoundParams params, std::vector<int64_t> support, int64_t clients, bool statistics)
    : bounds_{clients, params.length, params.numbers.ring_bits},
      session_(std::move(params)),
      support_(std::move(support)),
      statistics_(statistics) {}

SecureRound::SecureRound(const protocol::SecAggTask& task, uint64_t run_seed, uint32_t round,
                         std::vector<int64_t> support, int64_t clients)
    : SecureRound(protocol::secagg_round_params(task, run_seed, round, support.size()), support, clients, false) {}

SecureRound SecureRound::for_statistics(const protocol::SecAggTask& task, uint64_t run_seed, uint32_t round,
                                        size_t length, int64_t clients) {
  return SecureRound(protocol::secagg_stats_params(task, run_seed, round, length), {}, clients, true);
}

Result<std::vector<double>> SecureRound::sum(int64_t* summands) const {
  *summands = static_cast<int64_t>(session_.unmask_request().survivors.size());
  return session_.sum();
}

Result<at::Tensor> SecureRound::mean_delta(int64_t total, int64_t* summands) const {
  auto sum = this->sum(summands);
  if (!sum) return sum.status();
  const auto n = *summands;
  auto delta = at::zeros({total}, at::kFloat);
  float* d = delta.data_ptr<float>();
  for (size_t i = 0; i < support_.size(); ++i) d[support_[i]] = static_cast<float>(sum.value()[i] / static_cast<double>(n));
  return delta;
}

Result<SecureAggregationSpec> parse_secure_aggregation(const std::string& text) {
  const std::string usage = "--secure-aggregation '" + text +
                            "': expected on, or threshold=T,degree=K,range=R,bits=B,stats_range=A (any of them) with "
                            "T a whole number >= 2, K an even whole number in [2, 1024], T <= K, R in (0, 1e6], "
                            "B in [1, 24], A in (0, 1e6]";
  SecureAggregationSpec spec;
  auto& task = spec.task;
  task.range = kDefaultSecAggRange;
  task.bits = kDefaultSecAggBits;
  if (text == "on") return spec;
  const auto items = parse_key_values(text, ',');
  if (!items) return Status::usage(usage);
  std::set<std::string> seen;
  for (const auto& [key, value] : *items) {
    if (!seen.insert(key).second) return Status::usage("--secure-aggregation '" + text + "': " + key + " given twice");
    int64_t n = 0;
    bool ok = false;
    if (key == "threshold") {
      ok = parse_int64(value, &n) && n >= 2 && n <= 1024;
      task.threshold = static_cast<uint32_t>(n);
    } else if (key == "degree") {
      ok = parse_int64(value, &n) && n >= 2 && n <= 1024 && n % 2 == 0;
      task.degree = static_cast<uint32_t>(n);
    } else if (key == "range") {
      ok = parse_double(value, &task.range) && std::isfinite(task.range) && task.range > 0 && task.range <= 1e6;
    } else if (key == "stats_range") {
      ok = parse_double(value, &spec.stats_range) && std::isfinite(spec.stats_range) && spec.stats_range > 0 &&
           spec.stats_range <= 1e6;
    } else if (key == "bits") {
      ok = parse_int64(value, &n) && n >= 1 && n <= 24;
      task.bits = static_cast<uint8_t>(n);
    }
    if (!ok) return Status::usage(usage);
  }
  if (task.degree > 0 && task.threshold > task.degree)
    return Status::usage("--secure-aggregation '" + text + "': threshold " + std::to_string(task.threshold) +
                         " is above degree " + std::to_string(task.degree) + " (a client has k neighbours, t of whose shares recover it)");
  return spec;
}

std::string secure_aggregation_identity(const SecureAggregationSpec& spec) {
  const auto& task = spec.task;
  std::ostringstream os;
  os << "threshold=" << task.threshold << ",degree=" << task.degree << ",range=" << exact_number(task.range)
     << ",bits=" << int{task.bits} << ",stats_range=" << exact_number(spec.stats_range);
  return os.str();
}

uint32_t default_degree(int64_t n) {
  const auto log2n = static_cast<uint32_t>(std::ceil(std::log2(static_cast<double>(std::max<int64_t>(n, 2)))));
  return std::max<uint32_t>(2, 2 * log2n);
}

int stats_bits(int64_t n) { return std::min(31, 32 - ring_bits_for(0, n)); }

uint32_t default_threshold(uint32_t degree) { return degree / 2 + 1; }

int ring_bits_for(int bits, int64_t n) {
  return bits + static_cast<int>(std::ceil(std::log2(static_cast<double>(std::max<int64_t>(n, 1)))));
}

}  // namespace xfed::coordinator
