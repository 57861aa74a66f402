#include "coordinator/strategy.h"

#include "core/parse.h"
#include "core/registry.h"

namespace xfed::coordinator {
namespace {

constexpr double kMaxProxMu = 1e3;

// A strategy of the plain client objective and `rule`, with its default server lr.
StrategyFactory plain(const std::string& name, std::shared_ptr<const ServerRule> rule, double default_lr) {
  return [name, rule, default_lr](const std::optional<std::string>& arg,
                                  std::optional<double> lr) -> Result<Strategy> {
    if (arg) return Status::usage("--strategy '" + name + ":" + *arg + "': " + name + " takes no argument");
    return Strategy{name, 0.0, rule, lr.value_or(default_lr)};
  };
}

Result<Strategy> fedprox(const std::optional<std::string>& arg, std::optional<double> lr) {
  double mu;
  if (!arg || !parse_double(*arg, &mu) || !in_range(mu, 0, kMaxProxMu))
    return Status::usage("--strategy 'fedprox" + (arg ? ":" + *arg : std::string()) +
                         "': fedprox:MU, MU a number in " + range_text(0, kMaxProxMu));
  return Strategy{"fedprox:" + *arg, mu, fedavg_rule(), lr.value_or(1.0)};
}

void register_builtin_strategies(Registry<StrategyFactory>& r) {
  (void)r.add("fedavg", plain("fedavg", fedavg_rule(), 1.0));
  (void)r.add("fedprox", fedprox);
  (void)r.add("fedavgm", plain("fedavgm", fedavgm_rule(), 1.0));
  (void)r.add("fedadam", plain("fedadam", fedadam_rule(), 0.01));
  (void)r.add("fedyogi", plain("fedyogi", fedyogi_rule(), 0.01));
}

Registry<StrategyFactory>& strategies() {
  static Registry<StrategyFactory> r("strategy", register_builtin_strategies);
  return r;
}

}  // namespace

Status register_strategy(const std::string& name, StrategyFactory factory) {
  return strategies().add(name, std::move(factory));
}

Result<Strategy> parse_strategy(const std::string& text, double server_lr) {
  const auto [name, arg] = split_spec(text);
  auto factory = strategies().find(name, "--strategy");
  if (!factory) return factory.status();
  auto s = factory.value()(arg, server_lr > 0 ? std::optional<double>(server_lr) : std::nullopt);
  if (!s) return s;
  if (!s.value().server) return Status::usage("--strategy '" + text + "': the strategy has no server rule");
  s.value().name = text;
  return s;
}

std::vector<std::string> added_strategy_names() { return strategies().added_names(); }

}  // namespace xfed::coordinator
