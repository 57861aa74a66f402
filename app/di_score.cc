#include "app/di_score.h"

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "core/file_io.h"
#include "core/parse.h"
#include "pruning/class_stats.h"
#include "pruning/di.h"

namespace xfed::app {
namespace {

constexpr uint64_t kMaxCsvBytes = uint64_t{1} << 30;
constexpr int64_t kMaxClasses = 100000;

// Parses one CSV line into doubles; false if any field is not a number.
bool parse_row(const std::string& line, std::vector<double>* out) {
  out->clear();
  for (const auto& field : split_items(line, ',')) {
    double v;
    if (!parse_double(trim_blanks(field), &v)) return false;
    out->push_back(v);
  }
  return true;
}

Result<std::vector<std::vector<double>>> read_csv(const std::string& path) {
  auto text = read_text_file(path, kMaxCsvBytes);
  if (!text) return text.status();
  std::istringstream in(text.value());
  std::vector<std::vector<double>> rows;
  std::string line;
  std::vector<double> row;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (!parse_row(line, &row)) {
      if (n == 1) continue;  // header
      return Status::usage(path + ":" + std::to_string(n) + ": not a row of numbers");
    }
    if (!rows.empty() && row.size() != rows.front().size())
      return Status::usage(path + ":" + std::to_string(n) + ": " + std::to_string(row.size()) +
                           " columns, earlier rows have " + std::to_string(rows.front().size()));
    rows.push_back(row);
  }
  if (rows.empty()) return Status::usage(path + ": no data rows");
  return rows;
}

std::vector<double> to_vector(const at::Tensor& t) {
  const auto c = t.contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

Result<std::string> di_score_json(const DiScoreConfig& c) {
  auto acts = read_csv(c.activations);
  if (!acts) return acts.status();
  auto labs = read_csv(c.labels);
  if (!labs) return labs.status();
  const auto& a = acts.value();
  const auto& l = labs.value();
  if (l.size() != a.size())
    return Status::usage(c.labels + ": " + std::to_string(l.size()) + " labels for " +
                         std::to_string(a.size()) + " activation rows in " + c.activations);
  std::vector<int64_t> labels;
  int64_t classes = 0;
  for (size_t i = 0; i < l.size(); ++i) {
    if (l[i].size() != 1 || !(l[i][0] >= 0 && l[i][0] < kMaxClasses) || l[i][0] != std::floor(l[i][0]))
      return Status::usage(c.labels + ": row " + std::to_string(i + 1) + " is not a class index in [0, " +
                           std::to_string(kMaxClasses) + ")");
    labels.push_back(static_cast<int64_t>(l[i][0]));
    classes = std::max(classes, labels.back() + 1);
  }
  const int64_t n = static_cast<int64_t>(a.size()), m = static_cast<int64_t>(a.front().size());
  auto x = at::empty({n, m}, at::kDouble);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) x[i][j] = a[i][j];
  auto stats = pruning::ClassStats::zeros(m, classes);
  stats.accumulate(x, at::tensor(labels, at::kLong));
  auto s = pruning::di_scores(stats, pruning::RhoOptions{c.rho_scale, c.rho});
  if (!s) return s.status().prefixed(c.activations);
  const auto& d = s.value();
  nlohmann::json j{{"di", d.di},
                   {"rho", d.rho},
                   {"diloss", to_vector(d.diloss)},
                   {"fdr", to_vector(d.fdr)},
                   {"drop", to_vector(d.drop)}};
  return j.dump();
}

}  // namespace xfed::app
