// Secure aggregation's steps at the coordinator (#19; coordinator.h step 4–5 under
// --secure-aggregation): after the training phase, whose answers were key adverts, three
// more phases — relay the adverts (answers: sealed shares), relay each client's shares
// (answers: masked inputs), name the survivors and the dropped (answers: the shares that
// unmask) — each collected like any phase (deadline, straggler limit, lost ranks), then the
// unmasked sum becomes the round's delta. Too few clients at any step: the round is skipped
// with nothing unmasked, and the run goes on (kMaxFailedRounds in a row end it).
#include <ATen/ATen.h>

#include <cmath>

#include "coordinator/coordinator.h"
#include "core/log.h"
#include "core/timing.h"
#include "pruning/masked_stats.h"
#include "protocol/secagg_messages.h"

namespace xfed::coordinator {
namespace {

using protocol::FrameKind;

std::string client_name(int64_t c) { return "client " + std::to_string(c); }

template <class Write>
Bytes payload_of(Write write) {
  Bytes payload;
  ByteWriter w(&payload);
  write(w);
  return payload;
}

}  // namespace

protocol::SecAggTask Coordinator::secagg_task(int64_t n) const {
  auto task = options_.secure_aggregation->task;
  if (task.degree == 0) task.degree = default_degree(n);
  if (task.threshold == 0) task.threshold = default_threshold(task.degree);
  task.threshold = std::min(task.threshold, task.degree);
  task.ring_bits = static_cast<uint8_t>(ring_bits_for(task.bits, std::max<int64_t>(n, 1)));
  if (options_.dp && options_.dp->distributed) {
    task.dp_clip = options_.dp->clip;
    task.dp_noise = options_.dp->noise / std::sqrt(static_cast<double>(secure_min_survivors()));
  }
  return task;
}

protocol::SecAggTask Coordinator::secagg_stats_task(int64_t n) const {
  auto task = secagg_task(n);
  task.range = options_.secure_aggregation->stats_range;
  task.bits = static_cast<uint8_t>(stats_bits(n));
  task.ring_bits = 32;
  task.dp_clip = task.dp_noise = 0;  // --dp with statistics under masks is refused at setup
  return task;
}

int64_t Coordinator::secure_min_survivors() const {
  return std::max<int64_t>(options_.min_clients, static_cast<int64_t>(secagg::kMinSecAggClients) - 1);
}

Status Coordinator::secure_step(const std::vector<int64_t>& clients, FrameKind down, const StepPayload& payload,
                                RoundCollection& phase) {
  const auto start = Clock::now();
  auto* report = &phase.report();
  const auto& ranks = secure_round_->ranks();
  for (int64_t c : clients) {
    const int rank = ranks.at(c);
    if (!alive_[rank]) {
      ++report->missing;
      continue;
    }
    protocol::FrameHeader h{down, static_cast<uint32_t>(phase.round()), 0, static_cast<uint32_t>(c),
                            static_cast<uint32_t>(state_.downlink.version()), {protocol::CodecId::kNone}};
    auto frame = protocol::encode_frame(h, payload(c));
    const auto size = static_cast<int64_t>(frame.size());
    if (auto st = send_to(rank, std::move(frame)); !st) {
      log_warning("round " + std::to_string(phase.round()) + ": " + client_name(c) + ": " + st.message());
      lose_rank(rank, phase);
      ++report->missing;
      continue;
    }
    ledger_.sent(c, SentTask{static_cast<uint32_t>(phase.round()), phase.expected(), rank});
    report->bytes_down += size;
    phase.sent(c, rank, size);
  }
  report->seconds_coordinator_codec += seconds_since(start);
  if (auto st = collect(phase); !st) return st;
  close_phase(phase);
  return Status::ok();
}

Status Coordinator::secure_steps(int64_t round, RoundReport* report, std::optional<std::string>* failed) {
  auto& session = secure_round_->session();
  const auto fail = [&](const std::string& why) {
    *failed = "secure aggregation: " + why + "; nothing unmasked";
    return Status::ok();
  };
  const auto adverts = session.adverts();
  if (adverts.size() < secagg::kMinSecAggClients)
    return fail(std::to_string(adverts.size()) + " client(s) advertised keys, " +
                std::to_string(secagg::kMinSecAggClients) + " needed");
  // Step 2: every advertiser gets the adverts; it answers with the shares for its neighbours.
  const Bytes all_adverts = payload_of([&](ByteWriter& w) { protocol::write_adverts(w, adverts); });
  std::vector<int64_t> advertisers;
  for (const auto& a : adverts) advertisers.push_back(a.client);
  RoundCollection sharing(round, FrameKind::kSecAggShares, *report);
  if (auto st = secure_step(advertisers, FrameKind::kSecAggKeys, [&](int64_t) { return all_adverts; }, sharing); !st)
    return st;
  // Step 3: each client that shared gets the shares addressed to it; it answers masked.
  auto shared = session.unmask_request().dropped;  // before any masked input: every sharer
  RoundCollection masking(round, FrameKind::kSecAggMasked, *report);
  const auto shares_of = [&](int64_t c) {
    return payload_of([&](ByteWriter& w) { protocol::write_sealed_shares(w, session.shares_for(c)); });
  };
  if (auto st = secure_step(shared, FrameKind::kSecAggShares, shares_of, masking); !st) return st;
  // Step 4: the survivors are told who survived and who dropped; they hand over shares.
  const auto request = session.unmask_request();
  const auto needed = secure_min_survivors();
  if (static_cast<int64_t>(request.survivors.size()) < needed)
    return fail(std::to_string(request.survivors.size()) + " masked input(s), " + std::to_string(needed) + " needed");
  const Bytes asked = payload_of([&](ByteWriter& w) { protocol::write_unmask_request(w, request); });
  RoundCollection unmasking(round, FrameKind::kSecAggUnmask, *report);
  return secure_step(request.survivors, FrameKind::kSecAggUnmask, [&](int64_t) { return asked; }, unmasking);
}

Status Coordinator::finish_secure_round(int64_t round, RoundReport* report) {
  report->secagg_dropped = 0;
  std::optional<std::string> failed;
  if (auto st = secure_steps(round, report, &failed); !st) return st;
  if (failed) return skip_round(round, *failed, report);
  const auto start = Clock::now();
  int64_t summands = 0;
  auto delta = secure_round_->mean_delta(state_.layout.total, &summands);
  report->seconds_unmask = seconds_since(start);
  if (!delta) return skip_round(round, delta.message(), report);  // says "nothing is unmasked"

  report->secagg_dropped = static_cast<int64_t>(secure_round_->session().unmask_request().dropped.size());
  report->clients = summands;
  aggregated_ = true;
  if (auto st = step_model(delta.value(), round); !st) return st;
  report->seconds_aggregate = seconds_since(start);
  return Status::ok();
}

Status Coordinator::secure_stats_round(int64_t round, const std::vector<int64_t>& sampled, protocol::TrainTask task,
                                       pruning::Evidence* evidence, RoundReport* report) {
  const auto& o = pruning_.options();
  const int input_tap = PruningSchedule::input_tap(*state_.net);
  task.skip_input = input_tap >= 0 && o.input_l1;  // no statistics are kept per client
  task.secagg = secagg_stats_task(static_cast<int64_t>(sampled.size()));
  const auto units = pruning::gathered_tap_units(*state_.net, task.skip_input);
  const auto length = pruning::masked_stats_length(units, test_->classes);
  secure_round_ = SecureRound::for_statistics(*task.secagg, options_.seed, static_cast<uint32_t>(round), length,
                                              options_.clients);
  RoundCollection stats(round, FrameKind::kSecAggKeys, *report);
  dispatch(sampled, task, nullptr, stats);
  if (auto st = collect(stats); !st) return st;
  if (auto st = stats.all_failed_error(); !st) return st;
  close_phase(stats);
  std::optional<std::string> failed;
  if (auto st = secure_steps(round, report, &failed); !st) return st;
  const auto wait = [&](const std::string& why) {  // no evidence: maybe_prune plans nothing
    secure_round_.reset();
    log_warning("stats round " + std::to_string(round) + ": " + why + "; pruning waits for its next step round");
    return Status::ok();
  };
  if (failed) return wait(*failed);
  const auto start = Clock::now();
  int64_t summands = 0;
  const auto sum = secure_round_->sum(&summands);
  report->seconds_unmask += seconds_since(start);
  if (!sum) return wait(sum.message());
  secure_round_.reset();
  auto ev = pruning::from_unit_sums(sum.value(), units, test_->classes,
                                    pruning::StatsBounds{task.stats_samples, task.secagg->range});
  if (!ev) return ev.status().prefixed("stats round " + std::to_string(round));
  *evidence = std::move(ev).value();
  return Status::ok();
}

// One step's answer from a client (its round, model and rank already checked): decoded with
// the round's bounds and handed to the session, which keeps only what fits the protocol.
Status Coordinator::accept_secagg(const protocol::FrameHeader& h, ByteReader& r, const std::string& from,
                                  int64_t size, const protocol::UpdateMeta* meta, RoundCollection& phase) {
  auto& sr = *secure_round_;
  const auto& b = sr.bounds();
  const auto bad = [&](const std::string& what) {
    return Status::corruption(from + ": " + what);
  };
  const int64_t client = h.client;
  if (h.kind == FrameKind::kSecAggKeys) {
    secagg::KeyAdvert advert;
    if (!protocol::read_advert(r, b, &advert) || !r.done()) return bad("a malformed key advert");
    if (advert.client != client) return bad("a key advert for " + client_name(advert.client));
    sr.advertised(client, *phase.rank_of(client));
    sr.session().take_advert(advert);
    phase.add_step(client, size, meta->seconds_compute + meta->seconds_decode);
    if (!sr.statistics()) phase.report().bytes_up_dense += state_.layout.total * static_cast<int64_t>(sizeof(float));
  } else if (h.kind == FrameKind::kSecAggShares) {
    std::vector<secagg::SealedShares> shares;
    if (!protocol::read_sealed_shares(r, b, &shares) || !r.done()) return bad("malformed sealed shares");
    for (const auto& s : shares)
      if (s.from != client) return bad("shares sealed by " + client_name(s.from));
    sr.session().take_shares(shares);
    phase.add_step(client, size, 0);
  } else if (h.kind == FrameKind::kSecAggMasked) {
    secagg::MaskedInput masked;
    if (!protocol::read_masked_input(r, b, &masked) || !r.done()) return bad("a malformed masked input");
    if (masked.client != client) return bad("a masked input of " + client_name(masked.client));
    sr.session().take_masked(masked);
    phase.add_step(client, size, 0);
  } else {
    secagg::UnmaskReply reply;
    if (!protocol::read_unmask_reply(r, b, &reply) || !r.done()) return bad("a malformed unmask reply");
    if (reply.client != client) return bad("an unmask reply of " + client_name(reply.client));
    sr.session().take_reply(reply);
    phase.add_step(client, size, 0);
  }
  return Status::ok();
}

}  // namespace xfed::coordinator
