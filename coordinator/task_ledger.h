// TaskLedger: every task the coordinator sent that is not answered yet, across rounds and
// phases. An honest worker answers each task it gets exactly once, with the task's round
// (worker/worker.h). So for a frame about client c from rank r:
//   - r holds no task of c: the frame is forbidden (a worker answering for another's client),
//     never averaged in;
//   - a task of c on r has the frame's round (and kind): the frame is its answer, usable or
//     not; an unusable answer leaves its client missing at once rather than waited for;
//   - none has that round: no honest worker sends it, so it is the answer, in the wrong form,
//     to c's oldest live task on r (a round that waits for it would never close).
// A rank that is lost or joins again (a new process) will never answer its tasks: void_rank
// keeps them as void, so that an answer it still had on the way when it came back (held
// across a reconnection, or late past a deadline) is recognized by its round as late, and
// takes no live task's place. Void tasks beyond kMaxVoidPerClient per client are forgotten.
// Pure bookkeeping; not thread-safe (the coordinator's one thread owns it).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "protocol/frame.h"

namespace xfed::coordinator {

struct SentTask {
  uint32_t round = 0;
  protocol::FrameKind expects = protocol::FrameKind::kUpdate;  // the answer's kind (update / stats)
  int rank = 0;
  bool live = true;  // false: its rank was lost or joined again since; it answers nothing now
};

class TaskLedger {
 public:
  static constexpr size_t kMaxVoidPerClient = 64;

  void sent(int64_t client, SentTask task);
  // The task that a frame of `kind` for `round` from `rank` about `client` answers (no
  // longer outstanding), or nullopt when `rank` has no task of `client` it could answer.
  std::optional<SentTask> answer(int64_t client, int rank, uint32_t round, protocol::FrameKind kind);
  void void_rank(int rank);
  size_t live() const;

 private:
  std::map<int64_t, std::deque<SentTask>> outstanding_;  // client -> its tasks, oldest first
};

}  // namespace xfed::coordinator
