// A worker's half of a checkpoint: its clients' error-feedback residuals (and DGC
// velocities), saved by the worker itself when the coordinator checkpoints a round.
//
// On a checkpoint round the coordinator sends every worker a save-client-state command
// (protocol/messages.h) and waits for each to confirm before it writes its own checkpoint,
// so a checkpoint on disk is never newer than the client state that goes with it. The file
// is one client-state frame carrying the round it belongs to, written atomically; the
// previous one is kept as FILE.prev. On --resume each worker reads its own file back, or
// the previous one when the job was killed between the workers' save and the coordinator's
// (so a resume is bit-identical, and says so); if neither belongs to the checkpoint's round
// and model structure (missing, empty, truncated, damaged, from another run) the resume is
// refused: the worker reports it in its answer to the configuration check.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "worker/error_feedback.h"

namespace xfed::worker {

// DIR/clients.xfed: the file of a process whose worker threads share one store (simulate).
std::string client_state_path(const std::string& checkpoint_dir);
// DIR/clients.rank<R>.xfed: the file of worker rank R of a multi-process run.
std::string client_state_path(const std::string& checkpoint_dir, int rank);

Status save_client_state(ClientStateStore& store, const std::string& path, int64_t round);

// The point a resumed run continues from: the coordinator checkpoint's round and structure.
struct ResumePoint {
  int64_t round = 0;  // 0: no checkpoint, nothing to restore
  int64_t structure_version = 0;
  bool operator==(const ResumePoint& o) const { return round == o.round && structure_version == o.structure_version; }
};

// Fills the store from `path` (or FILE.prev) if it belongs to `at`; otherwise an error that
// names both files (and leaves the store empty, in `at`'s structure).
Status restore_client_state(ClientStateStore& store, const std::string& path, const ResumePoint& at);

}  // namespace xfed::worker
