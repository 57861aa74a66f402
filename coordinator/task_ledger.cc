#include "coordinator/task_ledger.h"

#include <algorithm>

namespace xfed::coordinator {

void TaskLedger::sent(int64_t client, SentTask task) {
  auto& tasks = outstanding_[client];
  tasks.push_back(task);
  const auto voids = std::count_if(tasks.begin(), tasks.end(), [](const SentTask& t) { return !t.live; });
  if (static_cast<size_t>(voids) > kMaxVoidPerClient)
    tasks.erase(std::find_if(tasks.begin(), tasks.end(), [](const SentTask& t) { return !t.live; }));
}

std::optional<SentTask> TaskLedger::answer(int64_t client, int rank, uint32_t round, protocol::FrameKind kind) {
  const auto it = outstanding_.find(client);
  if (it == outstanding_.end()) return std::nullopt;
  auto& tasks = it->second;
  const auto mine = [&](const SentTask& t) { return t.rank == rank; };
  const auto same_round = [&](const SentTask& t) { return mine(t) && t.round == round; };
  auto task = std::find_if(tasks.begin(), tasks.end(), [&](const SentTask& t) {
    return same_round(t) && (t.expects == kind || kind == protocol::FrameKind::kFailure);
  });
  if (task == tasks.end()) task = std::find_if(tasks.begin(), tasks.end(), same_round);
  if (task == tasks.end()) task = std::find_if(tasks.begin(), tasks.end(), [&](const SentTask& t) { return mine(t) && t.live; });
  if (task == tasks.end()) return std::nullopt;
  const SentTask answered = *task;
  tasks.erase(task);
  if (tasks.empty()) outstanding_.erase(it);
  return answered;
}

void TaskLedger::void_rank(int rank) {
  for (auto& [client, tasks] : outstanding_)
    for (auto& t : tasks)
      if (t.rank == rank) t.live = false;
}

size_t TaskLedger::live() const {
  size_t n = 0;
  for (const auto& [client, tasks] : outstanding_)
    n += static_cast<size_t>(std::count_if(tasks.begin(), tasks.end(), [](const SentTask& t) { return t.live; }));
  return n;
}

}  // namespace xfed::coordinator
