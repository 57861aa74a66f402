// The clients' half of a simulation checkpoint: in `xfed simulate` the clients live in the
// coordinator's process, so their error-feedback residuals (and DGC velocities) are saved
// beside the coordinator's checkpoint, as DIR/clients.xfed (a client-state frame carrying
// the round it belongs to), and restored on --resume. Without them a resumed run with a
// lossy uplink would drop what the clients had not sent yet.
//
// The file is written at the end of a round, just before the coordinator's checkpoint of
// that round, once the round's plan (if it pruned) has reached the store: worker threads
// register plans after the coordinator adopted them. If the two disagree on the round (a
// crash between the writes), the resumed run says so and its clients start from empty
// residuals, as in round 1.
#pragma once

#include <memory>
#include <string>

#include "core/metrics.h"
#include "worker/error_feedback.h"

namespace xfed::cli {

std::string client_state_path(const std::string& checkpoint_dir);

// Saves the store on the coordinator's checkpoint rounds.
class ClientStateCheckpointer : public RoundObserver {
 public:
  ClientStateCheckpointer(std::shared_ptr<worker::ClientStateStore> store, std::string dir,
                          int64_t every, int64_t rounds);
  void on_round(const RoundReport& report) override;
  void on_finish(const RunSummary&) override {}

 private:
  std::shared_ptr<worker::ClientStateStore> store_;
  std::string dir_;
  int64_t every_, rounds_;
  int64_t plans_;  // structure version the store must reach: one per pruning step
};

// Fills the store from DIR/clients.xfed if it belongs to DIR's checkpoint; otherwise logs
// why the clients start afresh. A missing checkpoint or client file is not an error.
void restore_client_state(worker::ClientStateStore& store, const std::string& checkpoint_dir);

}  // namespace xfed::cli
