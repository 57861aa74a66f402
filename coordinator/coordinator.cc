#include "coordinator/coordinator.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "compression/state_codec.h"
#include "core/evaluate.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/model_state.h"
#include "core/rng.h"
#include "core/timing.h"
#include "protocol/frame.h"

namespace xfed::coordinator {
namespace {

using protocol::FrameKind;

std::string client_name(int64_t c) { return "client " + std::to_string(c); }

}  // namespace


Coordinator::Coordinator(CoordinatorOptions options, transport::Transport& transport, Net model,
                         std::shared_ptr<const Dataset> test)
    : options_(std::move(options)),
      transport_(transport),
      state_(std::move(model), options_.strategy.server, options_.strategy.server_lr, options_.downlink,
             transport.world_size(), options_.clients),
      test_(std::move(test)),
      alive_(transport.world_size(), true),
      joins_(transport.world_size(), 0),
      pruning_(options_.prune, *state_.net, options_.clients),
      code_sent_(transport.world_size(), 0) {
  XFED_CHECK_GE(transport.world_size(), 2, "a run needs at least one worker rank");
  if (options_.attack) hostile_ = hostile_clients(options_.clients, options_.attack->hostile, options_.seed);
  if (options_.dp && options_.dp->clients_noise()) {
    auto local = LocalAccounting::make(*options_.dp, options_.clients);
    XFED_CHECK(static_cast<bool>(local), "--dp: " + local.message());  // the application checked the spec
    local_dp_.emplace(std::move(local).value());
  } else if (options_.dp) {
    auto dp = PrivateAggregation::make(*options_.dp, options_.clients, options_.fraction, private_stats_fraction());
    XFED_CHECK(static_cast<bool>(dp), "--dp: " + dp.message());
    dp_.emplace(std::move(dp).value());
  }
  last_round_ = dp_ ? dp_->last_round_within_target(options_.rounds, [this](int64_t r) { return stats_rounds_through(r); })
                    : options_.rounds;
  if (options_.model_code) code_frame_ = protocol::ModelCode{options_.model_code}.frame(0);
  alive_[0] = false;  // rank 0 is us, never a worker
  for (int r = 1; r < transport.world_size(); ++r) joins_[r] = transport.joins(r);
  // Clients build the initial model from the seed themselves, if it is the one we have.
  if (state_crc(read_state(*make_initial_model(state_.net->spec(), options_.seed))) == state_.downlink.crc())
    state_.downlink.set_seed_start(options_.seed);
}

void Coordinator::refresh_ranks() {
  for (int r = 1; r < transport_.world_size(); ++r) {
    const uint64_t joins = transport_.joins(r);
    if (joins == joins_[r]) continue;
    if (joins_[r] == 0)
      log_info(transport::peer_name(r) + " joined");
    else  // an operator wants to see this one: the worker lost its model (and maybe its state)
      log_warning(transport::peer_name(r) + " joined again; it gets the full model");
    joins_[r] = joins;
    alive_[r] = true;
    code_sent_[r] = 0;  // a new process
    state_.downlink.forget_rank(r);
    ledger_.void_rank(r);
  }
}

NetImpl& Coordinator::model() { return state_.loaded(); }

int Coordinator::alive_workers() const {
  int n = 0;
  for (bool a : alive_) n += a;
  return n;
}

Result<RunSummary> Coordinator::run() {
  const auto start = Clock::now();
  int64_t first_round = 1;
  Status status = restore_checkpoint(&first_round);
  if (status) announce_resume_point(first_round);
  if (status) status = check_worker_configs();
  const double seconds_before = totals_.seconds;
  const int64_t counted_before = totals_.total_bytes_up + totals_.total_bytes_down;
  int64_t last = last_round_;
  if (local_dp_)  // what the clients spent before a resume: the sampling is seeded
    for (int64_t r = 1; r < first_round; ++r) local_dp_->count(clients_of_round(r));
  if (status && last < options_.rounds)
    log_warning("--dp target_epsilon=" + exact_number(*options_.dp->target_epsilon) + ": the run stops after round " +
                std::to_string(last) + " of " + std::to_string(options_.rounds) + " (epsilon " +
                short_number(dp_->spent(last, stats_rounds_through(last)).epsilon) + "; one more round would spend " +
                short_number(dp_->spent(last + 1, stats_rounds_through(last + 1)).epsilon) + ")");
  for (int64_t r = first_round; status && r <= last; ++r) {
    const auto sampled = clients_of_round(r);
    if (local_dp_ && local_dp_->would_exceed_target(sampled)) {
      log_warning("--dp target_epsilon=" + exact_number(*options_.dp->target_epsilon) + ": round " + std::to_string(r) +
                  " would take a client past it; the run stops after round " + std::to_string(r - 1) + " (epsilon " +
                  short_number(local_dp_->spent().epsilon) + ")");
      last = r - 1;
      break;
    }
    RoundReport report;
    status = run_round(r, sampled, &report);
    if (!status) break;
    for (auto* o : observers_) o->on_round(report);
    totals_.seconds = seconds_before + seconds_since(start);
    status = save_round_checkpoint(r);
  }
  // Rounds ran, and not one update arrived in any: nothing was trained (a deadline no
  // client can meet, say). That is a failed run, not a result.
  if (status && first_round <= last && !aggregated_)
    status = Status::error("coordinator: no update arrived in any of rounds " + std::to_string(first_round) + ".." +
                           std::to_string(last) + " (is --round-timeout long enough for one local training?)");
  shutdown_workers(status.code() == StatusCode::kInterrupted ? status.message() : "");
  if (!status) return status;
  if (!last_eval_.test_accuracy) evaluate_into(&last_eval_);
  RunSummary s = totals_;
  s.rounds = last;
  if (dp_ || local_dp_) {
    s.epsilon = dp_ ? dp_->spent(last, dp_->stats_rounds()).epsilon : local_dp_->spent().epsilon;
    s.delta = options_.dp->delta;
  }
  s.final_accuracy = *last_eval_.test_accuracy;
  s.final_loss = *last_eval_.test_loss;
  s.params = state_.net->num_params();
  s.flops = state_.net->flops();
  s.seconds = seconds_before + seconds_since(start);
  s.model_checksum = state_checksum(state_.global);
  s.total_bytes_other = wire_bytes_ - (s.total_bytes_up + s.total_bytes_down - counted_before);
  for (auto* o : observers_) o->on_finish(s);
  return s;
}

double Coordinator::private_stats_fraction() const {
  if (!pruning_.enabled() || !pruning_.needs_stats()) return 0;
  return pruning_.options().statistics_fraction(options_.fraction);
}

int64_t Coordinator::stats_rounds_through(int64_t round) const {
  if (private_stats_fraction() == 0) return 0;
  int64_t n = 0;  // every step round (a bound: pruning may stop at its target first)
  for (int64_t r = 1; r <= round; ++r) n += pruning_.options().is_step_round(r);
  return n;
}

std::vector<int64_t> Coordinator::clients_of_round(int64_t round) const {
  return dp_ ? dp_->sample(round) : sample_clients(options_.clients, options_.fraction, options_.seed, round);
}

Status Coordinator::run_round(int64_t round, const std::vector<int64_t>& sampled, RoundReport* report) {
  const auto start = Clock::now();
  report->round = round;
  report->rounds = last_round_;
  report->sampled = static_cast<int64_t>(sampled.size());
  report_privacy(sampled, report);
  report->lr = options_.task.train.lr *
               std::pow(options_.lr_decay, static_cast<double>(round - pruning_.lr_origin()));
  const bool secure = options_.secure_aggregation.has_value();
  RoundCollection training(round, secure ? FrameKind::kSecAggKeys : FrameKind::kUpdate, *report);
  advance_view(mix_seed(options_.seed, kStreamCodec, round), report);
  auto task = task_for_round(round, report->lr);
  begin_shared_round(round, &task);
  if (secure) {
    task.secagg = secagg_task(static_cast<int64_t>(sampled.size()));
    secure_round_.emplace(*task.secagg, options_.seed, static_cast<uint32_t>(round),
                          protocol::secagg_support(state_.layout, task.uplink.ratio(), options_.seed,
                                                   static_cast<uint32_t>(round)),
                          options_.clients);
  }
  dispatch(sampled, task, nullptr, training);
  if (auto st = collect(training); !st) return st;
  if (auto st = training.all_failed_error(); !st) return st;
  close_phase(training);
  if (options_.attack) attack_updates(training);
  auto st = secure ? finish_secure_round(round, report) : aggregate(training.updates(), round, report);
  secure_round_.reset();
  if (!st) return st;
  if (auto st = maybe_prune(round, report); !st) return st;
  if (auto st = maybe_share_weights(round); !st) return st;
  if (dp_) report->epsilon = dp_->spent(round, dp_->stats_rounds()).epsilon;  // after the round's releases
  if (round % options_.eval_every == 0 || round == options_.rounds) evaluate_into(report);
  const double critical = training.critical_path_seconds();
  report->params = state_.net->num_params();
  report->flops = state_.net->flops();
  report->model_version = state_.version;
  report->seconds = seconds_since(start);
  report->seconds_comm = std::max(0.0, report->seconds - critical - report->seconds_eval -
                                           report->seconds_aggregate);
  totals_.total_seconds_link += report->seconds_link;
  totals_.total_bytes_up += report->bytes_up;
  totals_.total_bytes_down += report->bytes_down;
  totals_.total_bytes_up_dense += report->bytes_up_dense;
  totals_.total_bytes_down_dense += report->bytes_down_dense;
  totals_.total_bytes_down_delta += report->bytes_down_delta;
  totals_.total_bytes_down_full += report->bytes_down_full;
  return Status::ok();
}

std::vector<int> Coordinator::place(const std::vector<int64_t>& sampled) const {
  std::vector<int> ranks_alive;
  for (int r = 1; r < static_cast<int>(alive_.size()); ++r)
    if (alive_[r]) ranks_alive.push_back(r);
  const int workers = static_cast<int>(ranks_alive.size());
  if (options_.home_rank_of) {  // 0: no worker serves the client yet (counted missing)
    std::vector<int> ranks;
    for (auto c : sampled) ranks.push_back(options_.home_rank_of(c));
    return ranks;
  }
  if (!options_.home_ranks.empty()) {  // a client's rank never changes
    std::vector<int> ranks;
    for (auto c : sampled) ranks.push_back(options_.home_ranks.at(c));
    return ranks;
  }
  auto slots = place_clients(sampled, options_.client_sizes, workers);
  for (auto& s : slots) s = ranks_alive[s - 1];
  return slots;
}

protocol::TrainTask Coordinator::task_for_round(int64_t round, double lr) const {
  protocol::TrainTask task = options_.task;
  task.train.lr = lr;
  task.train.prox_mu = options_.strategy.prox_mu;
  task.train.seed = options_.seed;
  const auto& uplink = options_.task.uplink;
  const int64_t warmup = options_.sparsity_warmup;
  if (warmup > 0 && round <= warmup && uplink.sparsifies()) {
    const double target = uplink.ratio();
    const double start = options_.warmup_start_ratio > 0 ? options_.warmup_start_ratio
                                                         : std::min(1.0, 4 * target);
    const double progress = static_cast<double>(round - 1) / static_cast<double>(warmup);
    task.uplink = uplink.with_ratio(start * std::pow(target / start, progress));
  }
  return task;
}

void Coordinator::dispatch(const std::vector<int64_t>& sampled, protocol::TrainTask task,
                           const PerClientTask& per_client, RoundCollection& phase) {
  const auto start = Clock::now();
  const int64_t round = phase.round();
  auto* report = &phase.report();
  const std::string spec_json = state_.net->spec().to_json();
  refresh_ranks();
  const auto ranks = place(sampled);
  for (size_t i = 0; i < sampled.size(); ++i) {
    const int64_t c = sampled[i];
    if (!alive_[ranks[i]]) {
      ++report->missing;
      continue;
    }
    if (per_client) per_client(c, &task);
    DownloadKind kind = DownloadKind::kFull;
    int64_t size = 0;
    auto st = send_code_if_wanted(ranks[i], report);
    if (st) {
      auto frame = state_.downlink.frame_for(c, ranks[i], static_cast<uint32_t>(round), task, spec_json, state_.layout, &kind);
      size = static_cast<int64_t>(frame.size());
      st = send_to(ranks[i], std::move(frame));
    }
    if (!st) {
      log_warning("round " + std::to_string(round) + ": " + client_name(c) + ": " + st.message());
      lose_rank(ranks[i], phase);
      ++report->missing;
      continue;
    }
    state_.downlink.mark_sent(c, ranks[i]);
    ledger_.sent(c, SentTask{static_cast<uint32_t>(round), phase.expected(), ranks[i]});
    report->bytes_down += size;
    report->bytes_down_dense += state_.layout.total * static_cast<int64_t>(sizeof(float));
    count_download(kind, size, report);
    phase.sent(c, ranks[i], size);
  }
  report->seconds_encode += seconds_since(start);
  report->seconds_coordinator_codec += seconds_since(start);
}

void Coordinator::advance_view(uint64_t seed, RoundReport* report) {
  const auto start = Clock::now();
  state_.downlink.advance(state_.global, state_.layout, seed);
  report->seconds_encode += seconds_since(start);
  report->seconds_coordinator_codec += seconds_since(start);
}

void Coordinator::close_phase(RoundCollection& phase) {
  for (int rank : phase.silent_ranks()) state_.downlink.forget_rank(rank);
  phase.report().seconds_link += phase.link_seconds(options_.links);
}

Status Coordinator::send_code_if_wanted(int rank, RoundReport* report) {
  if (code_frame_.empty() || code_sent_.at(rank) || !options_.wants_code || !options_.wants_code(rank))
    return Status::ok();
  const auto size = static_cast<int64_t>(code_frame_.size());
  if (auto st = send_to(rank, code_frame_); !st) return st;
  code_sent_.at(rank) = 1;
  report->bytes_down += size;
  report->bytes_down_code += size;
  log_info("sent the model's code (" + std::to_string(size) + " bytes) to " + transport::peer_name(rank));
  return Status::ok();
}

Status Coordinator::send_to(int rank, Bytes frame) {
  const auto size = static_cast<int64_t>(frame.size());
  auto st = transport_.send(rank, std::move(frame));
  if (st) wire_bytes_ += size;
  return st;
}

void Coordinator::lose_rank(int rank, RoundCollection& phase) {
  if (rank <= 0 || rank >= static_cast<int>(alive_.size())) return;
  alive_[rank] = false;
  ledger_.void_rank(rank);
  phase.lose_rank(rank);
}

Status Coordinator::aggregate(std::vector<ClientUpdate>& updates, int64_t round,
                              RoundReport* report) {
  const int64_t needed = dp_ ? 0 : std::max<int64_t>(1, options_.min_clients);
  if (static_cast<int64_t>(updates.size()) < needed)
    return skip_round(round,
                      "only " + std::to_string(updates.size()) + " valid update(s), min_clients is " +
                          std::to_string(needed),
                      report);
  const auto start = Clock::now();
  int64_t samples = 0;
  for (const auto& u : updates) samples += u.samples;
  if (samples > 0) report->train_loss /= static_cast<double>(samples);
  std::sort(updates.begin(), updates.end(),
            [](const ClientUpdate& a, const ClientUpdate& b) { return a.client < b.client; });
  auto aggregated = combine(updates, round, report);
  if (!aggregated && aggregated.code() == StatusCode::kTooFew) return skip_round(round, aggregated.message(), report);
  if (!aggregated) return aggregated.status().prefixed("round " + std::to_string(round) + ": the aggregator");
  const at::Tensor delta = std::move(aggregated).value();
  const int64_t returned = delta.defined() ? delta.numel() : 0;  // a user's rule may return anything
  if (returned != state_.global.numel() || delta.scalar_type() != at::kFloat)
    return Status::error("round " + std::to_string(round) + ": the aggregator returned " +
                         std::to_string(returned) + " values for a model of " +
                         std::to_string(state_.global.numel()) + " (float32 expected)");
  aggregated_ = aggregated_ || !updates.empty();  // a --dp round may release noise alone
  if (auto st = step_model(delta, round); !st) return st;
  report->seconds_aggregate = seconds_since(start);
  return Status::ok();
}

Status Coordinator::step_model(const at::Tensor& delta, int64_t round) {
  failed_rounds_ = 0;
  state_.optimizer.step(state_.global, delta);
  keep_on_zeros_and_clusters();
  if (!at::isfinite(state_.global).all().item<bool>())
    return Status::diverged("round " + std::to_string(round) +
                         ": the model diverged: aggregation produced non-finite values "
                         "(lower --lr or --server-lr)");
  ++state_.version;
  return Status::ok();
}

Result<at::Tensor> Coordinator::combine(std::vector<ClientUpdate>& updates, int64_t round, RoundReport* report) {
  if (!dp_) return options_.aggregate ? options_.aggregate(updates) : weighted_mean(updates);
  report->dp_clip = dp_->clip();
  return dp_->aggregate(updates, state_.global.numel(), round);
}

void Coordinator::report_privacy(const std::vector<int64_t>& sampled, RoundReport* report) {
  if (!options_.dp) return;
  if (local_dp_) {
    local_dp_->count(sampled);
    report->epsilon = local_dp_->spent().epsilon;
    report->dp_clip = options_.dp->clip;
  }
  report->delta = options_.dp->delta;
}

Status Coordinator::skip_round(int64_t round, const std::string& why, RoundReport* report) {
  log_warning("round " + std::to_string(round) + ": " + why + "; model unchanged");
  report->skipped = 1;
  if (++failed_rounds_ >= kMaxFailedRounds)
    return Status::error("coordinator: " + std::to_string(kMaxFailedRounds) + " rounds in a row skipped (" + why +
                         "); giving up");
  return Status::ok();
}

void Coordinator::evaluate_into(RoundReport* report) {
  const auto start = Clock::now();
  const auto result = evaluate(model(), *test_);
  report->test_accuracy = result.accuracy;
  report->test_loss = result.loss;
  report->seconds_eval = seconds_since(start);
  last_eval_ = *report;
}

Status Coordinator::check_stop() const {
  if (!options_.stop_requested || !options_.stop_requested()) return Status::ok();
  return Status::error(StatusCode::kInterrupted, "coordinator: interrupted; the run stops here");
}

void Coordinator::shutdown_workers(const std::string& why) {
  const auto frame = protocol::ControlMessage{protocol::ControlCommand::kShutdown, why}.frame(0, 0);
  for (int r = 1; r < transport_.world_size(); ++r) {
    if (!alive_[r]) continue;
    if (auto st = send_to(r, frame); !st)
      log_warning("shutdown: " + st.message());
  }
}

}  // namespace xfed::coordinator
