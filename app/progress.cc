#include "app/progress.h"

#include <unistd.h>

#include <string>

namespace xfed::app {

std::string human_bytes(double b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) b /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

ProgressPrinter::ProgressPrinter(std::FILE* out, int64_t original_params, bool may_redraw)
    : out_(out),
      tty_(may_redraw && isatty(fileno(out))),
      start_(std::chrono::steady_clock::now()),
      original_params_(original_params) {}

void ProgressPrinter::on_round(const RoundReport& r) {
  if (first_round_ < 0) first_round_ = r.round;
  bytes_up_ += r.bytes_up;
  bytes_down_ += r.bytes_down;
  if (r.test_accuracy) last_accuracy_ = *r.test_accuracy;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t done = r.round - first_round_ + 1;
  const double eta = elapsed / done * static_cast<double>(r.rounds - r.round);
  char acc[32] = "   -  ";
  if (last_accuracy_ >= 0) std::snprintf(acc, sizeof acc, "%6.2f%%", 100 * last_accuracy_);
  char line[256];
  std::snprintf(line, sizeof line,
                "round %3lld/%lld  acc %s  loss %.4f  clients %lld/%lld  up %s  down %s  "
                "%.2f s/round  ETA %.0f s",
                static_cast<long long>(r.round), static_cast<long long>(r.rounds), acc,
                r.train_loss, static_cast<long long>(r.clients),
                static_cast<long long>(r.sampled), human_bytes(bytes_up_).c_str(),
                human_bytes(bytes_down_).c_str(), elapsed / done, eta);
  if (tty_) {
    const int width = 20;
    const int filled = static_cast<int>(width * r.round / std::max<int64_t>(1, r.rounds));
    std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    std::fprintf(out_, "\r\033[K%s%s", bar.c_str(), line);
    line_open_ = true;
  } else {
    std::fprintf(out_, "%s\n", line);
  }
  print_pruning_step(r);
  std::fflush(out_);
}

// On a pruning round, a permanent line: kept units per prunable layer and the new size.
void ProgressPrinter::print_pruning_step(const RoundReport& r) {
  const auto kept = r.per_layer.find("kept");
  if (kept == r.per_layer.end()) return;
  std::string widths;
  for (double k : kept->second)
    widths += (widths.empty() ? "" : "-") + std::to_string(static_cast<int64_t>(k));
  const double share = static_cast<double>(r.params) / static_cast<double>(std::max<int64_t>(1, original_params_));
  std::fprintf(out_, "%s  pruned: kept %s units per layer, %lld params (%.1f %% of the original)\n",
               line_open_ ? "\n" : "", widths.c_str(), static_cast<long long>(r.params), 100.0 * share);
  line_open_ = false;
}

void ProgressPrinter::on_finish(const RunSummary& s) {
  if (line_open_) std::fprintf(out_, "\n");
  std::fprintf(out_,
               "done: %lld rounds, test accuracy %.2f%%, up %s (dense %s), down %s (dense %s), "
               "%lld params, %.1f s, model %s\n",
               static_cast<long long>(s.rounds), 100 * s.final_accuracy,
               human_bytes(s.total_bytes_up).c_str(), human_bytes(s.total_bytes_up_dense).c_str(),
               human_bytes(s.total_bytes_down).c_str(),
               human_bytes(s.total_bytes_down_dense).c_str(), static_cast<long long>(s.params),
               s.seconds, s.model_checksum.c_str());
  std::fflush(out_);
}

}  // namespace xfed::app
