#include "app/run_setup.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <optional>
#include <set>
#include <thread>

#include "app/datasets.h"
#include "app/model_flag.h"
#include "app/resume_check.h"
#include "compression/pipeline.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/models/torchscript.h"
#include "core/parse.h"
#include "core/rng.h"
#include "pruning/masked_stats.h"
#include "pruning/planner.h"

namespace xfed::app {
namespace {

std::vector<int64_t> positive_list(const std::string& text, char sep, const std::string& flag) {
  const auto list = parse_int_list(text, sep, 1, int64_t{1} << 24);
  if (!list)
    throw UsageError(flag + " '" + text + "': expected whole numbers in [1, 16777216] separated by '" +
                     std::string(1, sep) + "'");
  return *list;
}

std::vector<int64_t> labels_of(const Dataset& d) {
  const auto l = d.labels.contiguous();
  return std::vector<int64_t>(l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel());
}

// A TorchScript model: checked on one batch before round 1 (an edge worker without the
// file checks the archive when it comes); pruned where its forward is a proven chain.
void check_scripted_run(const RunConfig& c, const ModelSpec& spec, const ModelChoice& model, bool edge_worker) {
  if (model.from_coordinator && !edge_worker)
    throw UsageError("--model torchscript: only an edge worker (xfed worker) runs the archive its coordinator "
                     "sends; give the file: --model torchscript:FILE.pt");
  if (!c.widths.empty())
    throw UsageError("--widths " + c.widths + ": a TorchScript model (--model " + c.model +
                     ") has its archive's widths");
  if (c.prune.rfind("bn", 0) == 0 || c.prune.rfind("taylor", 0) == 0)
    throw UsageError("--prune " + c.prune + ": a TorchScript model (--model " + c.model +
                     ") is pruned by di, drop, fdr, l1 or random");
  if (model.from_coordinator) return;  // the coordinator checks its file
  if (auto st = check_torchscript_model(spec, "--model " + c.model); !st) throw UsageError(st.message());
  const auto net = make_model(spec);
  log_info("--model " + c.model + ": " + scripted_structure(*net));
  if (c.prune != "none" && net->prunable_layers().empty())
    throw UsageError("--prune " + c.prune + ": --model " + c.model + " cannot be pruned: " +
                     scripted_pruning_blocker(*net));
}

std::optional<coordinator::AttackSpec> parse_attack(const RunConfig& c) {
  if (c.attack.empty()) return std::nullopt;
  auto spec = coordinator::AttackSpec::parse(c.attack).value_or_throw<UsageError>();
  if (spec.hostile > c.clients)
    throw UsageError("--attack '" + c.attack + "': " + std::to_string(spec.hostile) + " hostile clients of --clients " +
                     std::to_string(c.clients));
  return spec;
}

// --dp with --prune: what the statistics rounds may use under the budget.
void check_private_pruning(const coordinator::DpSpec& spec, const pruning::PruneOptions& prune,
                           const std::string& flag) {
  if (spec.clients_noise())
    throw UsageError(flag + " with --prune: in mode=local or distributed the clients would noise their own class "
                            "statistics, which is not built; use central --dp, or a criterion without statistics "
                            "(l1, bn, random)");
  if (prune.criterion == pruning::Criterion::kTaylor)
    throw UsageError(flag + " with --prune taylor: activation x gradient sums have no bound under --dp; use di, drop "
                            "or fdr");
  if (prune.stats_trim > 0)
    throw UsageError(flag + " with --prune stats_trim: leaving clients out by the others' statistics is not "
                            "accounted; --dp bounds each client's statistics instead");
  if (prune.noise > 0)
    throw UsageError(flag + " with --prune noise: --dp noises the summed statistics itself (stats_noise=)");
}

// --dp: the spec, checked against what it cannot combine with.
std::optional<coordinator::DpSpec> parse_dp(const RunConfig& c, const std::optional<pruning::PruneOptions>& prune) {
  if (c.dp.empty()) return std::nullopt;
  auto spec = coordinator::DpSpec::parse(c.dp).value_or_throw<UsageError>();
  const std::string flag = "--dp " + c.dp;
  const bool statistics = prune && prune->gathers_statistics();
  if (statistics) check_private_pruning(spec, *prune, flag);
  if (spec.distributed && c.secure_aggregation.empty())
    throw UsageError(flag + ": mode=distributed needs --secure-aggregation (each client adds a share of the noise; "
                            "only the masked sum carries all of it)");
  if (spec.clients_noise()) {  // the coordinator only post-processes noised updates: any rule, any minimum
    coordinator::LocalAccounting::make(spec, c.clients).value_or_throw<UsageError>();
    return spec;
  }
  if (c.aggregate != "mean")
    throw UsageError(flag + " with --aggregate " + c.aggregate +
                     ": central --dp has its own aggregation (clipped sum plus noise); robust rules are not "
                     "accounted (mode=local allows them)");
  if (c.min_clients > 1)
    throw UsageError(flag + " with --min-clients " + std::to_string(c.min_clients) +
                     ": under central --dp every round releases its noised sum, however few clients answered");
  const double stats_fraction = statistics ? prune->statistics_fraction(c.fraction) : 0;
  coordinator::PrivateAggregation::make(spec, c.clients, c.fraction, stats_fraction).value_or_throw<UsageError>();
  if (spec.delta >= 1.0 / static_cast<double>(c.clients))
    log_warning(flag + ": delta " + exact_number(spec.delta) + " is not below 1/--clients; a guarantee that lets " +
                "one client's data out with probability delta says little");
  return spec;
}

// --prune under --secure-aggregation: the statistics rounds sum bounded statistics under masks
// (pruning/masked_stats.h); what has no bound, or needs each client's statistics, is refused.
void check_masked_statistics(const RunConfig& c, const pruning::PruneOptions& prune, const std::string& flag) {
  const auto refuse = [&](const std::string& why) { throw UsageError(flag + " with --prune " + c.prune + ": " + why); };
  if (prune.criterion == pruning::Criterion::kTaylor)
    refuse("activation x gradient sums have no bound under masks; use di, drop or fdr");
  if (prune.spatial) refuse("spatial=1 counts positions as samples, which is not built under masks; leave spatial out");
  if (prune.stats_samples <= 0)
    refuse("stats_samples=0 leaves each client's statistics unbounded; give stats_samples=N (N samples a client)");
  if (prune.stats_trim > 0) refuse("stats_trim needs each client's statistics; the coordinator sees only their sum");
  const auto per_round = static_cast<int64_t>(
      coordinator::sample_clients(c.clients, prune.statistics_fraction(c.fraction), c.seed, 1).size());
  if (per_round < static_cast<int64_t>(secagg::kMinSecAggClients))
    refuse(std::to_string(per_round) + " client(s) a statistics round; it needs " +
           std::to_string(secagg::kMinSecAggClients) + " or more");
  const int bits = coordinator::stats_bits(per_round);
  if (!pruning::counts_exact(per_round, pruning::StatsBounds{prune.stats_samples, 1.0}, bits))
    refuse("the class counts of " + std::to_string(per_round) + " clients of " + std::to_string(prune.stats_samples) +
           " samples do not decode exactly at " + std::to_string(bits) + " bits a value (4 x clients x stats_samples "
           "must stay below 2^bits); use fewer stats_samples or a smaller stats_fraction");
}

// --secure-aggregation: the spec, checked against what cannot be summed under masks.
std::optional<coordinator::SecureAggregationSpec> parse_secure_aggregation(const RunConfig& c,
                                                                          const coordinator::CoordinatorOptions& o) {
  if (c.secure_aggregation.empty()) return std::nullopt;
  auto spec = coordinator::parse_secure_aggregation(c.secure_aggregation).value_or_throw<UsageError>();
  const auto& task = spec.task;
  const std::string flag = "--secure-aggregation";
  const auto refuse = [&](const std::string& why) { throw UsageError(flag + " with " + why); };
  const auto& up = o.task.uplink;
  const bool randk_only = up.codec_ids() == std::vector<compression::CodecId>{compression::CodecId::kRandK};
  if (!up.lossless() && !randk_only)
    refuse("--compress " + c.compress + ": clients must all send the same positions (client-chosen ones would leak "
           "and the masks would not cancel), as masked fixed-point values; use --compress randk:R (positions from "
           "the round's seed) or none, and bits=B for the values");
  if (up.zstd_level() > 0) refuse("--compress " + c.compress + ": masked values look random; zstd gains nothing");
  if (c.ef_momentum > 0) refuse("--ef-momentum: momentum correction is not built for masked updates");
  if (o.dp && !o.dp->clients_noise())
    refuse("central --dp: it clips and noises each update at the coordinator, which sees only the sum; use --dp "
           "mode=distributed (each client adds a share of the sum's noise) or mode=local");
  if (c.aggregate != "mean") refuse("--aggregate " + c.aggregate + ": a robust rule needs each client's update");
  if (o.attack) refuse("--attack: the attack bench rewrites single updates at the coordinator");
  if (c.max_update_norm > 0) refuse("--max-update-norm: the coordinator never sees one update; range=R bounds each value");
  if (o.prune && o.prune->gathers_statistics()) check_masked_statistics(c, *o.prune, flag);
  const auto per_round = static_cast<int64_t>(coordinator::sample_clients(c.clients, c.fraction, c.seed, 1).size());
  if (per_round < static_cast<int64_t>(secagg::kMinSecAggClients))
    throw UsageError(flag + ": " + std::to_string(per_round) + " client(s) a round (--clients x --fraction); it needs " +
                     std::to_string(secagg::kMinSecAggClients) + " or more");
  if (coordinator::ring_bits_for(task.bits, per_round) > 32)
    throw UsageError(flag + ": bits=" + std::to_string(task.bits) + " for " + std::to_string(per_round) +
                     " clients a round needs a ring of more than 32 bits; use fewer bits");
  return spec;
}

// --share-weights: the spec, checked against what would make equal weights unequal.
std::optional<coordinator::ShareWeightsSpec> parse_share_weights(const RunConfig& c, const coordinator::CoordinatorOptions& o) {
  if (c.share_weights.empty()) return std::nullopt;
  auto spec = coordinator::parse_share_weights(c.share_weights, c.rounds).value_or_throw<UsageError>();
  const auto refuse = [](const std::string& why) { throw UsageError("--share-weights with " + why); };
  if (!o.downlink.lossless())
    refuse("--downlink " + c.downlink + ": a lossy downlink gives each weight its own error, and the clients' "
           "clusters are their model's equal weights; use a lossless one (none, zstd)");
  if (o.secure_aggregation) refuse("--secure-aggregation: centroid updates under masks are not built");
  if (o.dp) refuse("--dp: a centroid's sensitivity to one client is not accounted for; not built");
  return spec;
}

// labelflip: the hostile clients' samples learn class classes-1-y for y.
void flip_labels(Dataset& train, const Partition& partition, const std::set<int64_t>& hostile) {
  train.labels = train.labels.clone();
  auto* y = train.labels.data_ptr<int64_t>();
  for (int64_t client : hostile)
    for (int64_t i : partition.indices.at(client)) y[i] = train.classes - 1 - y[i];
}


}  // namespace

int worker_threads(const RunConfig& c, int64_t clients_per_round) {
  int64_t t = c.threads > 0 ? c.threads : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::clamp<int64_t>(t, 1, std::max<int64_t>(1, clients_per_round)));
}

RunSetup make_run_setup(const RunConfig& c, bool edge_worker) {
  if (c.min_clients > c.clients)
    throw UsageError("--min-clients " + std::to_string(c.min_clients) + " is more than --clients " +
                     std::to_string(c.clients) + ": no round could ever close");
  auto data = load_data(c);
  RunSetup s;
  s.test = std::make_shared<const Dataset>(data.test);
  auto& train = data.train;  // kept only as the client-ordered copy below
  const auto pspec = PartitionSpec::parse(c.partition).value_or_throw<UsageError>();
  auto partition = make_partition(labels_of(train), train.classes, pspec, c.clients, c.seed)
                       .value_or_throw<UsageError>();
  const auto attack = parse_attack(c);
  if (attack && attack->poisons_data()) flip_labels(train, partition, coordinator::hostile_clients(c.clients, attack->hostile, c.seed));
  s.clients = std::make_shared<const PartitionedData>(train, std::move(partition));
  const auto widths = c.widths.empty() ? std::vector<int64_t>{} : positive_list(c.widths, ',', "--widths");
  const auto model = resolve_model_flag(c);
  s.spec = make_spec(model.arch, train.channels(), train.height(), train.width(), train.classes, widths)
               .value_or_throw<UsageError>();
  if (model.scripted) check_scripted_run(c, s.spec, model, edge_worker);
  if (c.train.batch == 1 && !model.from_coordinator && make_model(s.spec)->has_batchnorm())
    throw UsageError("--batch 1: model " + c.model + " has BatchNorm, which needs batches of 2 or more");
  auto& o = s.coordinator;
  o.clients = c.clients;
  o.fraction = c.fraction;
  o.rounds = c.rounds;
  o.seed = c.seed;
  o.task.train = c.train;
  o.lr_decay = c.lr_decay;
  o.strategy = coordinator::parse_strategy(c.strategy, c.server_lr).value_or_throw<UsageError>();
  o.aggregate = coordinator::make_aggregator(c.aggregate).value_or_throw<UsageError>();
  o.attack = attack;
  o.task.uplink = compression::Pipeline::parse(c.compress, "--compress").value_or_throw<UsageError>();
  o.task.error_feedback = !c.no_error_feedback;
  o.task.ef_momentum = c.ef_momentum;
  o.downlink = compression::Pipeline::parse(c.downlink, "--downlink").value_or_throw<UsageError>();
  o.sparsity_warmup = c.sparsity_warmup;
  o.warmup_start_ratio = c.warmup_start_ratio;
  if (c.prune != "none") {
    o.prune = pruning::PruneOptions::parse(c.prune).value_or_throw<UsageError>();
    if (auto st = pruning::check_criterion(o.prune->criterion, *make_model(s.spec)); !st)
      throw UsageError(st.message());
  }
  o.dp = parse_dp(c, o.prune);
  if (attack && attack->poisons_statistics() && !(o.prune && pruning::needs_class_stats(o.prune->criterion)))
    throw UsageError("--attack " + c.attack + ": forges the class statistics of pruning rounds; it needs --prune with "
                     "a criterion that gathers them (di, drop, fdr)");
  if (!c.link.empty()) o.links = coordinator::parse_links(c.link).value_or_throw<UsageError>();
  o.round_timeout_s = c.round_timeout;
  o.straggler_timeout_s = c.straggler_timeout;
  o.min_clients = c.min_clients;
  o.max_update_norm = c.max_update_norm;
  o.secure_aggregation = parse_secure_aggregation(c, o);
  o.share_weights = parse_share_weights(c, o);
  o.eval_every = c.eval_every;
  o.client_sizes = s.clients->partition().sizes();
  o.checkpoint_dir = c.checkpoint_dir;
  o.checkpoint_every = c.checkpoint_every;
  o.resume = c.resume;
  if (c.resume && c.checkpoint_dir.empty()) throw UsageError("--resume needs --checkpoint-dir");
  o.run_identity = run_identity(c, train);
  if (c.resume) s.resume = check_resume(c, o.run_identity);
  return s;
}

}  // namespace xfed::app
