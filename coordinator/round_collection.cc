#include "coordinator/round_collection.h"

#include <algorithm>
#include <set>

#include "core/check.h"

namespace xfed::coordinator {
namespace {

std::string client_name(int64_t c) { return "client " + std::to_string(c); }

}  // namespace

void RoundCollection::sent(int64_t client, int rank, int64_t bytes) {
  rank_of_[client] = rank;
  bytes_down_[client] = bytes;
  ++dispatched_;
}

std::optional<int> RoundCollection::rank_of(int64_t client) const {
  const auto it = rank_of_.find(client);
  if (it == rank_of_.end()) return std::nullopt;
  return it->second;
}

std::vector<int> RoundCollection::silent_ranks() const {
  std::set<int> ranks;
  for (const auto& [client, rank] : rank_of_) ranks.insert(rank);
  return {ranks.begin(), ranks.end()};
}

int RoundCollection::take(int64_t client) {
  const auto it = rank_of_.find(client);
  XFED_CHECK(it != rank_of_.end(), "an answer from client " + std::to_string(client) + ", which is not pending");
  const int rank = it->second;
  rank_of_.erase(it);
  return rank;
}

void RoundCollection::add_update(ClientUpdate update, const protocol::UpdateMeta& meta,
                                 int64_t frame_bytes, double decode_seconds, int64_t dense_bytes) {
  const int64_t client = update.client;
  busy_[take(client)] += meta.seconds_compute + meta.seconds_encode + meta.seconds_decode;
  bytes_up_[client] = frame_bytes;
  updates_.push_back(std::move(update));
  report_.clients += 1;
  report_.train_loss += meta.train_loss * static_cast<double>(meta.samples);  // normalized later
  report_.bytes_up += frame_bytes;
  report_.bytes_up_dense += dense_bytes;
  report_.seconds_compute += meta.seconds_compute;
  report_.seconds_encode += meta.seconds_encode;
  report_.seconds_decode += meta.seconds_decode + decode_seconds;
  report_.seconds_coordinator_codec += decode_seconds;
}

void RoundCollection::add_stats(int64_t client, pruning::Evidence evidence,
                                const protocol::UpdateMeta& meta, int64_t frame_bytes) {
  busy_[take(client)] += meta.seconds_compute + meta.seconds_decode;
  bytes_up_[client] = frame_bytes;
  stats_[client] = std::move(evidence);
  report_.bytes_up += frame_bytes;
  report_.seconds_compute += meta.seconds_compute;
}

void RoundCollection::add_step(int64_t client, int64_t frame_bytes, double client_seconds) {
  busy_[take(client)] += client_seconds;
  bytes_up_[client] += frame_bytes;
  report_.bytes_up += frame_bytes;
  report_.seconds_compute += client_seconds;
  ++steps_;
}

void RoundCollection::add_failure(int64_t client, protocol::TaskFailure failure) {
  rank_of_.erase(client);
  failed_[client] = std::move(failure);
  ++report_.failed;
  ++report_.missing;
}

void RoundCollection::abandon(int64_t client) {
  if (rank_of_.erase(client)) ++report_.missing;
}

void RoundCollection::lose_rank(int rank) {
  for (auto it = rank_of_.begin(); it != rank_of_.end();) {
    if (it->second == rank) {
      ++report_.missing;
      it = rank_of_.erase(it);
    } else {
      ++it;
    }
  }
}

void RoundCollection::count_missing() { report_.missing += static_cast<int64_t>(rank_of_.size()); }

// Nothing can come of repeating a phase in which every client that got a task reported a
// failure. Training that diverged everywhere says so. (Clients that only missed the
// deadline, or whose rank was lost, leave it to the min_clients rule.)
Status RoundCollection::all_failed_error() const {
  if (answered() > 0 || failed_.empty() || failed_.size() < dispatched_) return Status::ok();
  const auto& [first_client, first] = *failed_.begin();
  const bool all_diverged = std::all_of(failed_.begin(), failed_.end(), [](const auto& f) {
    return f.second.kind == protocol::FailureKind::kDiverged;
  });
  const std::string round = "round " + std::to_string(round_);
  if (all_diverged)
    return Status::diverged(round + ": training diverged: every client's local training produced " +
                         "non-finite values (lower --lr); " + client_name(first_client) + ": " +
                         first.reason);
  return Status::error(round + ": every client failed; " + client_name(first_client) + " (" +
                       protocol::failure_kind_name(first.kind) + "): " + first.reason);
}

double RoundCollection::critical_path_seconds() const {
  double critical = 0;
  for (const auto& [rank, busy] : busy_) critical = std::max(critical, busy);
  return critical;
}

double RoundCollection::link_seconds(const std::vector<Link>& links) const {
  if (links.empty()) return 0;
  double phase = 0;
  for (const auto& [client, up] : bytes_up_) {
    const auto& link = links[client % links.size()];
    phase = std::max(phase, transfer_seconds(link, bytes_down_.at(client), up));
  }
  return phase;
}

}  // namespace xfed::coordinator
