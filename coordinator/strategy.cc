#include "coordinator/strategy.h"

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
    try {
      size_t used = 0;
      s.prox_mu = std::stod(arg, &used);
      if (used != arg.size() || s.prox_mu < 0) throw std::invalid_argument(arg);
    } catch (const std::exception&) {
      return Status::error("--strategy '" + text + "': MU must be a number >= 0");
    }
  } else if (arg.empty() && head == "fedavg") {
  } else if (arg.empty() && head == "fedavgm") {
    s.server.kind = Kind::kFedAvgM;
  } else if (arg.empty() && (head == "fedadam" || head == "fedyogi")) {
    s.server.kind = head == "fedadam" ? Kind::kFedAdam : Kind::kFedYogi;
    default_lr = 0.01;
  } else {
    return Status::error("--strategy '" + text +
                         "': expected fedavg, fedprox:MU, fedavgm, fedadam or fedyogi");
  }
  s.server.lr = server_lr > 0 ? server_lr : default_lr;
  return s;
}

}  // namespace xfed::coordinator
