#include "coordinator/strategy.h"

#include "core/parse.h"

namespace xfed::coordinator {

using Kind = ServerOptimizerOptions::Kind;

Result<Strategy> parse_strategy(const std::string& text, double server_lr) {
  Strategy s;
  s.name = text;
  const auto colon = text.find(':');
  const std::string head = text.substr(0, colon);
  const std::string arg = colon == std::string::npos ? "" : text.substr(colon + 1);
  double default_lr = 1.0;
  if (head == "fedprox" && !arg.empty()) {
    if (!parse_double(arg, &s.prox_mu) || !in_range(s.prox_mu, 0, 1e3))
      return Status::usage("--strategy '" + text + "': MU must be a number in " + range_text(0, 1e3));
  } else if (arg.empty() && head == "fedavg") {
  } else if (arg.empty() && head == "fedavgm") {
    s.server.kind = Kind::kFedAvgM;
  } else if (arg.empty() && (head == "fedadam" || head == "fedyogi")) {
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
