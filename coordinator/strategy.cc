#include "coordinator/strategy.h"

#include "core/parse.h"

namespace xfed::coordinator {

using Kind = ServerOptimizerOptions::Kind;

Result<Strategy> parse_strategy(const std::string& text, double server_lr) {
  Strategy s;
  s.name = text;
  const auto [head, arg] = split_spec(text);
  double default_lr = 1.0;
  if (head == "fedprox" && arg) {
    if (!parse_double(*arg, &s.prox_mu) || !in_range(s.prox_mu, 0, 1e3))
      return Status::usage("--strategy '" + text + "': MU must be a number in " + range_text(0, 1e3));
  } else if (!arg && head == "fedavg") {
  } else if (!arg && head == "fedavgm") {
    s.server.kind = Kind::kFedAvgM;
  } else if (!arg && (head == "fedadam" || head == "fedyogi")) {
    s.server.kind = head == "fedadam" ? Kind::kFedAdam : Kind::kFedYogi;
    default_lr = 0.01;
  } else {
    return Status::usage("--strategy '" + text +
                         "': expected fedavg, fedprox:MU, fedavgm, fedadam or fedyogi");
  }
  s.server.lr = server_lr > 0 ? server_lr : default_lr;
  return s;
}

}  // namespace xfed::coordinator
