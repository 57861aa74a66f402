// Step 4 of the round protocol (coordinator.h): receiving the answers of one phase, and
// deciding for each frame whether it answers its client's current task (TaskLedger), is a
// late answer of an earlier one, or is forbidden; then decoding and checking it.
#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>

#include "compression/state_codec.h"
#include "coordinator/coordinator.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/timing.h"
#include "protocol/frame.h"

namespace xfed::coordinator {
namespace {

using protocol::FrameKind;

constexpr double kLongestWait = 1e6;  // seconds: a deadline stays far inside the clock's range

std::string client_name(int64_t c) { return "client " + std::to_string(c); }

// Why an update must not be averaged in, if it must not: a norm above the limit. (NaN/Inf
// never get this far: the state decoder refuses them.)
std::optional<std::string> refusal_of(const at::Tensor& delta, double max_norm) {
  if (max_norm <= 0) return std::nullopt;
  const double norm = delta.norm().item<double>();
  if (norm <= max_norm) return std::nullopt;
  return "its update's norm " + exact_number(norm) + " is above --max-update-norm " + exact_number(max_norm);
}

}  // namespace

void Coordinator::attack_updates(RoundCollection& phase) {
  auto& updates = phase.updates();
  std::sort(updates.begin(), updates.end(),
            [](const ClientUpdate& a, const ClientUpdate& b) { return a.client < b.client; });
  apply_attack(*options_.attack, hostile_, options_.seed, phase.round(), updates);
  for (auto it = updates.begin(); it != updates.end();) {
    const auto why = hostile_.count(it->client) ? refusal_of(it->delta, options_.max_update_norm) : std::nullopt;
    if (!why) {
      ++it;
      continue;
    }
    log_warning("round " + std::to_string(phase.round()) + ": " + client_name(it->client) + " (hostile) refused: " + *why);
    ++phase.report().missing;
    ++phase.report().failed;
    --phase.report().clients;
    it = updates.erase(it);
  }
}

Status Coordinator::collect(RoundCollection& phase) {
  using Kind = transport::Received::Kind;
  using std::chrono::milliseconds;
  const int64_t round = phase.round();
  constexpr milliseconds kRejoinCheck{1000};
  const auto after = [](double s) { return milliseconds(static_cast<int64_t>(std::min(s, kLongestWait) * 1000)); };
  const bool has_deadline = options_.round_timeout_s > 0;
  const bool bounded_wait = !has_deadline && options_.straggler_timeout_s > 0;
  const Clock::time_point deadline = Clock::now() + after(has_deadline ? options_.round_timeout_s : kLongestWait);
  Clock::time_point last_answer = Clock::now();
  // The bounds are checked before every receive, not only when one times out: frames that
  // keep coming (a peer's junk) cannot hold a round open.
  while (phase.waiting()) {
    const Clock::time_point quiet_until =
        last_answer + after(bounded_wait ? options_.straggler_timeout_s : kLongestWait);
    if (Clock::now() >= deadline) break;
    if (Clock::now() >= quiet_until) {
      log_warning("round " + std::to_string(round) + ": no answer for " + exact_number(options_.straggler_timeout_s) +
                  " s (--straggler-timeout); " + std::to_string(phase.still_expected()) + " client(s) missing");
      break;
    }
    const Clock::time_point poll = Clock::now() + kRejoinCheck;
    auto got = receive_until(std::min({deadline, quiet_until, poll}));
    drop_tasks_of_rejoined(phase);
    if (auto st = check_stop(); !st) return st;
    const auto now = Clock::now();
    if (got.kind == Kind::kTimeout) continue;
    if (got.kind == Kind::kError) {
      if (got.message.source <= 0) return got.status.prefixed("coordinator");
      log_warning("round " + std::to_string(round) + ": " + got.status.message());
      lose_rank(got.message.source, phase);
      if (alive_workers() == 0) return Status::peer_lost("coordinator: every worker is gone");
      continue;
    }
    const size_t pending = phase.still_expected();
    if (auto st = accept(std::move(got.message), phase); !st) {
      ++phase.report().dropped;
      ++phase.report().dropped_kinds[st.code()];
      log_warning(st.message() + " (dropped: " + status_code_name(st.code()) + ")");
    }
    if (phase.still_expected() < pending) last_answer = now;
  }
  if (phase.waiting() && has_deadline)
    log_warning("round " + std::to_string(round) + ": " + std::to_string(phase.still_expected()) +
                " client(s) missed the " + std::to_string(options_.round_timeout_s) + " s deadline");
  phase.count_missing();
  return Status::ok();
}

void Coordinator::drop_tasks_of_rejoined(RoundCollection& phase) {
  for (int rank : phase.silent_ranks()) {
    if (transport_.joins(rank) == joins_[rank]) continue;
    log_warning("round " + std::to_string(phase.round()) + ": " + transport::peer_name(rank) +
                " joined again (a new process): the tasks it had are missing");
    phase.lose_rank(rank);
    ledger_.void_rank(rank);
  }
}

Status Coordinator::accept(transport::Message message, RoundCollection& phase) {
  const auto size = static_cast<int64_t>(message.bytes.size());
  const std::string from = "frame from " + transport::peer_name(message.source);
  auto decoded = protocol::decode_frame(std::move(message.bytes), options_.max_frame_bytes);
  if (!decoded) return decoded.status().prefixed(from);
  const auto& h = decoded.value().header;
  const auto task = ledger_.answer(h.client, message.source, h.round, h.kind);
  if (!task)
    return Status::forbidden(from + ": an answer for " + client_name(h.client) + ", which has no task there");
  const bool current = task->live && task->round == phase.round() && task->expects == phase.expected() &&
                       phase.rank_of(h.client) == message.source;
  if (!current)
    return Status::stale(from + ": late answer to " + client_name(h.client) + "'s task of round " +
                         std::to_string(task->round));
  auto st = accept_answer(decoded.value(), from + " for " + client_name(h.client), size, phase);
  if (!st) {  // its task is answered, unusably: nothing more will come, and its view is unknown
    state_.downlink.task_failed(task->rank);
    phase.abandon(h.client);
  }
  return st;
}

Status Coordinator::accept_answer(const protocol::Frame& f, const std::string& from, int64_t size,
                                  RoundCollection& phase) {
  const auto start = Clock::now();
  const int64_t round = phase.round();
  const auto& h = f.header;
  if (h.kind != phase.expected() && h.kind != FrameKind::kFailure)
    return Status::stale(from + ": unexpected " + protocol::frame_kind_name(h.kind) + " frame");
  if (h.round != round)
    return Status::stale(from + ": it answers the round " + std::to_string(round) + " task with round " +
                         std::to_string(h.round));
  if (h.model_version != state_.downlink.version())
    return Status::stale(from + ": update against model version " +
                         std::to_string(h.model_version) + ", current is " +
                         std::to_string(state_.downlink.version()));
  auto r = f.payload_reader();
  if (h.kind == FrameKind::kFailure) return accept_failure(h.client, r, phase);
  if (h.kind == FrameKind::kSecAggShares || h.kind == FrameKind::kSecAggMasked || h.kind == FrameKind::kSecAggUnmask)
    return accept_secagg(h, r, from, size, nullptr, phase);
  protocol::UpdateMeta meta;
  if (!meta.read(r) || meta.samples == 0)
    return Status::corruption(from + ": truncated or empty update metadata");
  if (meta.base_crc != state_.downlink.crc())
    return Status::corruption(from + ": " + client_name(h.client) +
                         " used a model that differs from the coordinator's (CRC mismatch)");
  if (h.kind == FrameKind::kStats) return accept_stats(h.client, r, meta, size, phase).prefixed(from);
  if (h.kind == FrameKind::kSecAggKeys) return accept_secagg(h, r, from, size, &meta, phase);
  at::Tensor delta;
  if (auto st = decode_update(r, h.codecs, &delta); !st) return st.prefixed(from);
  if (auto why = refusal_of(delta, options_.max_update_norm)) {
    record_failure(h.client, protocol::TaskFailure{protocol::FailureKind::kRejected, *why}, phase);
    return Status::ok();
  }
  phase.add_update(ClientUpdate{h.client, static_cast<int64_t>(meta.samples), delta}, meta, size,
                   seconds_since(start), state_.layout.total * static_cast<int64_t>(sizeof(float)));
  return Status::ok();
}

// A client that could not do its task: no longer waited for, counted with its reason.
Status Coordinator::accept_failure(int64_t client, ByteReader& r, RoundCollection& phase) {
  protocol::TaskFailure failure;
  if (!failure.read(r)) return Status::corruption(client_name(client) + ": malformed failure report");
  record_failure(client, std::move(failure), phase);
  return Status::ok();
}

void Coordinator::record_failure(int64_t client, protocol::TaskFailure failure, RoundCollection& phase) {
  log_warning("round " + std::to_string(phase.round()) + ": " + client_name(client) + " failed (" +
              protocol::failure_kind_name(failure.kind) + "): " + failure.reason);
  // Whatever model that rank holds may not be the one we think: a full model next time.
  if (const auto rank = phase.rank_of(client)) state_.downlink.task_failed(*rank);
  phase.add_failure(client, std::move(failure));
}

transport::Received Coordinator::receive_until(std::optional<Clock::time_point> deadline) {
  auto wait = std::chrono::milliseconds(-1);  // no deadline: as long as it takes
  if (deadline)
    wait = std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()));
  auto got = transport_.recv({transport::kAnySource, wait});
  wire_bytes_ += static_cast<int64_t>(got.message.bytes.size());
  return got;
}

}  // namespace xfed::coordinator
