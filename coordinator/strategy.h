// Strategy: `--strategy NAME[:ARG]`, a client objective plus a server optimizer. The client
// objective is the local loss the clients minimize: the task carries its one parameter,
// FedProx's proximal weight mu (0: the plain loss). The server optimizer is a ServerRule
// (server_optimizer.h) with its learning rate (`--server-lr`, or the strategy's default).
// Strategies are registered pieces, like aggregators: the built-ins fedavg, fedprox:MU,
// fedavgm, fedadam and fedyogi register through register_strategy as a program's would.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/server_optimizer.h"
#include "core/status.h"

namespace xfed::coordinator {

struct Strategy {
  std::string name = "fedavg";  // as given to --strategy
  double prox_mu = 0.0;         // the client objective's proximal weight (0: plain loss)
  std::shared_ptr<const ServerRule> server = fedavg_rule();
  double server_lr = 1.0;
};

// Makes a strategy from the text after "NAME:" (nullopt: none given) and --server-lr
// (nullopt: not given, use the strategy's default); a bad argument is a usage error.
using StrategyFactory =
    std::function<Result<Strategy>(const std::optional<std::string>& arg, std::optional<double> server_lr)>;

// Adds a strategy under `name` for --strategy; refuses a taken or malformed name.
Status register_strategy(const std::string& name, StrategyFactory factory);
// server_lr <= 0 means "the strategy's default" (1.0, or 0.01 for fedadam/fedyogi).
// Unknown names list the registered ones.
Result<Strategy> parse_strategy(const std::string& text, double server_lr = -1.0);
// The strategies a program registered beyond the built-ins (its run identity names them).
std::vector<std::string> added_strategy_names();

}  // namespace xfed::coordinator
