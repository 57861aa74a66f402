// Requests the coordinator puts to every worker outside the rounds: where the run goes on
// from (announced, not answered: the configuration check that follows it on the same ordered
// link confirms it arrived), and, each answered by one control frame per worker, the
// configuration check before round 1 (every rank must run the same settings: the same data
// partition, the same model) and the save of the clients' state on a checkpoint round
// (checkpoint_step.cc).
#include <cmath>

#include "coordinator/coordinator.h"
#include "core/log.h"

namespace xfed::coordinator {
namespace {

// The worker's answer of kind `answer` for `round`, if `bytes` are one.
std::optional<protocol::ControlMessage> answer_in(Bytes bytes, uint32_t round, protocol::ControlCommand answer,
                                                  uint64_t max_frame_bytes) {
  auto frame = protocol::decode_frame(std::move(bytes), max_frame_bytes);
  if (!frame || frame.value().header.kind != protocol::FrameKind::kControl ||
      frame.value().header.round != round)
    return std::nullopt;
  auto r = frame.value().payload_reader();
  protocol::ControlMessage reply;
  if (!reply.read(r) || reply.command != answer) return std::nullopt;
  return reply;
}

}  // namespace

Result<Coordinator::WorkerAnswers> Coordinator::ask_workers(const protocol::ControlMessage& request,
                                                            uint32_t round, protocol::ControlCommand answer,
                                                            std::chrono::seconds timeout,
                                                            const std::string& what) {
  const auto frame = request.frame(round, 0);
  refresh_ranks();
  WorkerAnswers answers;
  for (int r = 1; r < transport_.world_size(); ++r)
    if (alive_[r] && send_to(r, frame)) answers.silent.insert(r);
  const auto deadline = Clock::now() + timeout;
  while (!answers.silent.empty() && Clock::now() < deadline) {  // frames that keep coming cannot extend it
    auto got = receive_until(std::min(deadline, Clock::now() + std::chrono::seconds(1)));
    forget_rejoined(answers.silent, what);
    if (auto st = check_stop(); !st) return st;
    if (got.kind == transport::Received::Kind::kTimeout) continue;
    const int from = got.message.source;
    if (got.kind == transport::Received::Kind::kError) {
      if (from <= 0) return got.status.prefixed("coordinator");
      log_warning(what + ": " + got.status.message());
      alive_[from] = false;
      answers.silent.erase(from);
      continue;
    }
    auto reply = answer_in(std::move(got.message.bytes), round, answer, options_.max_frame_bytes);
    if (!reply || !answers.silent.count(from)) {
      log_warning(what + ": dropped a frame from " + transport::peer_name(from) + " that is not its answer");
      continue;
    }
    answers.replies[from] = std::move(*reply);
    answers.silent.erase(from);
  }
  return answers;
}

// A rank that joined again since it was asked is a new process that never got the question.
void Coordinator::forget_rejoined(std::set<int>& asked, const std::string& what) {
  for (auto it = asked.begin(); it != asked.end();) {
    if (transport_.joins(*it) == joins_[*it]) {
      ++it;
      continue;
    }
    log_warning(what + ": " + transport::peer_name(*it) + " joined again before it answered");
    it = asked.erase(it);
  }
}

void Coordinator::announce_resume_point(int64_t first_round) {
  refresh_ranks();
  const protocol::ControlMessage resume{protocol::ControlCommand::kResume,
                                        std::to_string(pruning_.structure_version())};
  const auto frame = resume.frame(static_cast<uint32_t>(first_round - 1), 0);
  for (int r = 1; r < transport_.world_size(); ++r)
    if (alive_[r]) (void)send_to(r, frame);  // a worker not there yet starts afresh anyway
}

// At most kConfigCheckTimeout, and no longer than the straggler bound.
std::chrono::seconds Coordinator::config_check_timeout() const {
  const double s = options_.straggler_timeout_s;
  if (s <= 0 || s >= static_cast<double>(kConfigCheckTimeout.count())) return kConfigCheckTimeout;
  return std::chrono::seconds(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(s))));
}

Status Coordinator::check_worker_configs() {
  using protocol::ControlCommand;
  if (options_.run_identity.empty()) return Status::ok();  // a library user's run: nothing to compare
  auto asked = ask_workers({ControlCommand::kCheckConfig, options_.run_identity}, 0,
                           ControlCommand::kConfigChecked, config_check_timeout(), "configuration check");
  if (!asked) return asked.status();
  for (const auto& [rank, reply] : asked.value().replies)
    if (!reply.text.empty())
      return Status::usage(transport::peer_name(rank) + " " + reply.text);
  const auto& silent = asked.value().silent;
  if (!silent.empty() && asked.value().replies.empty())
    return Status::timeout("no worker answered the configuration check within " +
                           std::to_string(config_check_timeout().count()) + " s");
  for (int r : silent) {  // alive but silent: the run goes on without it
    log_warning(transport::peer_name(r) + " did not answer the configuration check within " +
                std::to_string(config_check_timeout().count()) + " s; it gets no work");
    alive_[r] = false;
  }
  return Status::ok();
}

}  // namespace xfed::coordinator
