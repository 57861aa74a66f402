// Worker: the client side of the round protocol (steps 2-3 of coordinator/coordinator.h).
//
// A worker serves the logical clients the coordinator assigns to its rank. It holds one
// model instance and the model "view" of the last version it received: a model frame
// replaces the view (and rebuilds the model if the spec changed), a delta frame advances it
// from the base version it names. For each task it trains the client locally from the view
// and replies with an update frame carrying Delta = w_local - w_view, compressed with the
// task's uplink pipeline and the client's error-feedback state (error_feedback.h), plus
// the CRC of the view, so the coordinator can prove the client did not drift. A stats task
// gathers pruning evidence instead (stats_collector.h); a plan frame registers a structure
// change so the clients' EF state is sliced like the model, and cuts the view down (writing
// the plan's refitted weights over it) when the view is the one the plan was made from, so
// the next task needs only the steps since (worker_view.cc). A control frame stops the worker
// or asks it to save its clients' state for a checkpoint, which it confirms
// (client_state_file.h), or says where the run goes on from (a restarted coordinator: the
// clients' state is restored from the file at its checkpoint).
// Every task gets an answer: a task the worker cannot do (undecodable, a client it does not
// hold, training that diverged to NaN, an exception) is answered with a failure frame naming
// the reason, so the coordinator counts it instead of waiting. Frames that are not tasks and
// cannot be decoded are logged and dropped. Under --secure-aggregation a training task is
// answered with a key advert instead, and the round's later steps with the next one
// (secure_client.h). A code frame (the TorchScript archive, before
// the first model) goes to options.accept_code; code it refuses ends the worker.
// Threads: with `threads` > 1 the worker decodes frames on its own thread and trains the
// tasks on a TaskPool (task_pool.h), each thread with its own model instance, so a rank of a
// multi-process run trains several clients at once. Every task trains from an immutable
// view of its version, so results do not depend on the thread or the order. Control and
// plan frames wait for the running tasks first (they touch the clients' state), and so do
// the tasks of a new phase (a client never has two tasks running).
// One Worker per rank; run() blocks its thread until shutdown.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "compression/pipeline.h"
#include "core/client_data.h"
#include "core/model.h"
#include "core/privacy_noise.h"
#include "core/state_layout.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "transport/transport.h"
#include "worker/client_state_file.h"
#include "worker/error_feedback.h"
#include "worker/local_trainer.h"
#include "worker/secure_client.h"
#include "worker/task_pool.h"

namespace xfed::worker {

// The trainer's options for a task of the wire (the client's own seed given).
TrainOptions train_options(const protocol::TrainTask& task, uint64_t seed);

struct WorkerOptions {
  uint64_t max_frame_bytes = protocol::kDefaultMaxFrameBytes;
  // Per-client EF state; shared by the workers of one process. Null: a private store.
  std::shared_ptr<ClientStateStore> client_state;
  // Where this worker saves its clients' state when the coordinator checkpoints
  // (worker/client_state_file.h); empty: it has nowhere to save and says so.
  std::string client_state_file;
  // Threads that train tasks (1: on run()'s thread); each first runs `thread_init`.
  int threads = 1;
  std::function<void()> thread_init;
  // This worker's own run identity (core/run_identity.h), compared with the coordinator's
  // before round 1; a difference is answered, and run() then ends with a usage error. Empty:
  // nothing to compare (an edge device with its own data, which the coordinator checked
  // when it admitted it).
  std::string run_identity;
  // The point the clients' state in `client_state` belongs to (restored by the caller on
  // --resume). A coordinator announcing another point (a restarted coordinator, while this
  // worker lived on) makes the worker restore its file at that point, or refuse to go on.
  ResumePoint resumed_from;
  // Why the caller could not restore it (empty: it could): the answer to the configuration
  // check, which refuses the resume.
  std::string resume_failure;
  // Takes the model's code the coordinator sent (protocol::ModelCode, digest checked), or
  // says why not: then run() ends with that usage error (a worker runs only code it accepts).
  // Null: this worker takes no code.
  std::function<Status(std::shared_ptr<const std::string> archive)> accept_code;
  // --dp mode=local: every update is clipped and noised here, before error feedback and
  // compression, and its train_loss is not reported (0). Unset: updates as trained.
  // mode=distributed: noise 0 here; the tasks say how much (their secret is this one's).
  std::optional<LocalPrivacy> local_privacy;
};

class Worker {
 public:
  Worker(transport::Transport& transport, std::shared_ptr<const ClientDataSource> data,
         WorkerOptions options = {});
  // Serves until a shutdown command; an error Status if the coordinator is gone, a usage
  // error if this worker's configuration differed from the coordinator's.
  Status run();
  int64_t tasks_done() const { return tasks_done_; }

 private:
  // A task ready to run on any thread: the view it starts from is never changed in place.
  struct Job {
    protocol::FrameHeader header;
    protocol::TrainTask task;
    ModelSpec spec;
    StateLayout layout;
    at::Tensor view;
    uint32_t view_crc = 0;
    double seconds_decode = 0;
  };
  // Reads the task and brings the view to its version; the task's failure, if it cannot run.
  std::optional<protocol::TaskFailure> prepare(const protocol::Frame& frame, Job* job);
  // Trains (or gathers statistics) with `net` and sends the answer; never throws.
  void run_job(const Job& job, Net& net);
  void finish_running_tasks();
  void send_failure(const protocol::FrameHeader& task, const protocol::TaskFailure& failure);
  Status load_full_model(ByteReader& r, const protocol::Frame& frame);
  Status build_seeded_model(ByteReader& r, const protocol::Frame& frame);
  Status apply_delta(ByteReader& r, const protocol::Frame& frame);
  Status apply_steps(ByteReader& r, const protocol::Frame& frame, int64_t base);
  bool use_model(const std::string& spec_json, Status* error);
  Result<Bytes> train_and_encode(const Job& job, NetImpl& net);
  Result<Bytes> gather_stats(const Job& job, NetImpl& net);
  Status handle_plan(const protocol::Frame& frame);
  Status restructure_view(const pruning::StructurePlan& plan, int64_t version);
  // The model's code; an error when this worker does not take it.
  Status handle_code(const protocol::Frame& frame);
  // A step of secure aggregation for one of its clients (secure_client.h): answered with the
  // next step's frame, or a failure frame naming why not.
  void handle_secagg_step(const protocol::Frame& frame);
  std::optional<LocalPrivacy> privacy_of(const protocol::TrainTask& task) const;
  // A control frame; false when it says shut down.
  bool handle_control(const protocol::Frame& frame);
  void save_client_state(uint32_t round);
  void answer_config_check(const std::string& coordinator_identity);
  void resume_at(const ResumePoint& point);

  transport::Transport& transport_;
  std::shared_ptr<const ClientDataSource> data_;
  WorkerOptions options_;
  Net net_;
  StateLayout layout_;
  at::Tensor view_;            // flat state of version view_version_
  int64_t view_version_ = -1;  // -1: none yet
  uint32_t view_crc_ = 0;
  std::atomic<int64_t> tasks_done_{0};
  ResumePoint state_point_;                // what the clients' state belongs to...
  std::atomic<bool> state_moved_{false};   // ...unless tasks or plans changed it since
  std::string config_difference_;  // non-empty: this worker's configuration is not the coordinator's
  std::string resume_failure_;     // non-empty: its clients' state could not be restored (the check says so)
  std::vector<Net> pool_nets_;       // one per pool thread
  std::unique_ptr<TaskPool> pool_;   // null: tasks run on run()'s thread
  std::pair<uint32_t, int> pool_phase_{0, -1};  // (round, task mode) of the tasks in the pool
  SecureClients secure_;             // --secure-aggregation: its clients' sessions of the round
  SecretKey process_secret_ = random_secret();  // distributed noise when no --dp secret was given
};

}  // namespace xfed::worker
