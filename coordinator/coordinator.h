// Coordinator: the server side of a federated run. It owns the global model and drives the
// round protocol over any Transport (it never knows which one):
//
//   1. Sample clients for round r, seeded by (seed, r) only; place them on worker ranks.
//   2. Send each sampled client its task with the current model view: a full model, or a
//      compressed delta against the view it holds (coordinator/broadcast.h).
//   3. (worker) Train E local epochs, form Delta = w_local - w_view, compress it with error
//      feedback, send an update frame (worker/worker.h).
//   4. Decode updates as they arrive. Close the round when every sampled client answered, or
//      when the deadline passed and >= min_clients answered. Invalid or late frames are
//      counted (`dropped`) and never touch the state; a worker rank that disappears loses
//      its clients for the round (`missing`) and gets no more work. A client that could not
//      do its task answers with a failure frame (diverged, bad task, internal: `failed`, part
//      of `missing`), so nobody waits for it; a phase in which every client failed ends the
//      run, as does an aggregate that is no longer finite ("diverged").
//   5. Aggregate: sample-weighted mean of deltas in client-id order, then the server
//      optimizer (coordinator/server_optimizer.h). Model version += 1.
//   6. Pruning (--prune), every `every` rounds from `warmup` until the size target: a stats
//      round (clients gather class statistics of every prunable layer on the new model),
//      global scores, one StructurePlan, surgery of the global model, the view and the
//      server optimizer state, and a plan frame to every worker (which slices its clients'
//      EF state). The next round sends every client the slimmer model in full.
//   7. Evaluate, emit a RoundReport to the observers, checkpoint every `checkpoint_every`.
// Under --secure-aggregation (secure_round.h, secure_aggregation.cc) step 3's answer is a key
// advert, and steps 4–5 become three more collection phases — relay the adverts, relay each
// client's sealed shares, ask the survivors for the shares that unmask — before the model
// steps by the unmasked mean; the coordinator never holds one client's values.
//
// Its parts: RoundCollection (round_collection.h) is one collection phase, what is pending
// and what came back; PruningSchedule (pruning_schedule.h) holds the pruning state across
// rounds; Broadcaster (broadcast.h) the clients' model views; checkpoint_step.cc the
// checkpoint round (workers save their clients' state first); prune_step.cc step 6.
//
// Determinism: with the same options and seed, the final model is bit-identical whatever
// the number of worker ranks and the order in which updates arrive. Not thread-safe: run()
// is called once, on one thread. Failures that end the run (transport closed, every worker
// gone, too many rounds without enough clients) come back as an error Result.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compression/pipeline.h"
#include "coordinator/aggregator.h"
#include "coordinator/attack.h"
#include "coordinator/broadcast.h"
#include "coordinator/checkpoint.h"
#include "coordinator/dp.h"
#include "coordinator/global_model.h"
#include "coordinator/link_model.h"
#include "coordinator/pruning_schedule.h"
#include "coordinator/round_collection.h"
#include "coordinator/sampler.h"
#include "coordinator/secure_round.h"
#include "coordinator/server_optimizer.h"
#include "coordinator/share_weights.h"
#include "coordinator/strategy.h"
#include "coordinator/task_ledger.h"
#include "core/dataset.h"
#include "core/metrics.h"
#include "core/model.h"
#include "core/state_layout.h"
#include "core/weight_clusters.h"
#include "core/timing.h"
#include "protocol/messages.h"
#include "pruning/class_stats.h"
#include "pruning/evidence.h"
#include "pruning/planner.h"
#include "transport/transport.h"

namespace xfed::coordinator {

constexpr int kMaxFailedRounds = 3;
// How long a checkpoint waits for the workers to confirm they saved their clients' state.
constexpr std::chrono::seconds kClientStateSaveTimeout{60};
// How long the configuration check before round 1 waits for every worker (ranks of a job
// start and load their data at their own pace).
constexpr std::chrono::seconds kConfigCheckTimeout{300};

struct CoordinatorOptions {
  int64_t clients = 10;
  double fraction = 1.0;
  int64_t rounds = 30;
  uint64_t seed = 1;
  // What every client is asked to do: lr, momentum, weight decay, epochs, batch, the uplink
  // pipeline and error feedback (EF momentum). Per round the coordinator sets the decayed lr,
  // the FedProx weight, the seed and the warmed-up uplink ratio.
  protocol::TrainTask task;
  double lr_decay = 1.0;         // client lr of round r = lr * lr_decay^(r-1)
  Strategy strategy;
  Aggregator aggregate;          // the rule for the round's updates (null: the weighted mean)
  compression::Pipeline downlink;  // parsed once, at the edge (none by default)
  int64_t sparsity_warmup = 0;   // rounds over which the uplink ratio decays to its target
  double warmup_start_ratio = 0; // ratio in round 1 (0: 4 x target, at most 1)
  std::vector<Link> links;       // modelled client links; empty: no seconds_link
  std::optional<pruning::PruneOptions> prune;
  double round_timeout_s = 0;    // 0: wait for every sampled client (while answers keep coming)
  // With no round deadline: clients still silent this long after the round's last answer (or
  // its tasks, when none came) are missing. A worker that is alive but never answers cannot
  // hold a run forever. 0: no limit.
  double straggler_timeout_s = 600;
  // Polled while waiting (at least once a second): true ends the run at once, with every
  // worker told to stop (an interrupted coordinator: Ctrl-C, SIGTERM). Null: never.
  std::function<bool()> stop_requested;
  int64_t min_clients = 1;
  int64_t eval_every = 1;
  // Client -> worker rank for the whole run (a multi-process run: a client's error-feedback
  // state stays on the rank that made it; home_ranks() in sampler.h). Empty: every round,
  // the sampled clients are balanced over the live ranks.
  std::vector<int> home_ranks;
  // The same, learned as the run goes (edge workers declare their clients when they join):
  // the rank serving `client`, 0 for none yet. Takes precedence over home_ranks.
  std::function<int(int64_t client)> home_rank_of;
  std::vector<int64_t> client_sizes;  // for load balancing; empty = unknown
  uint64_t max_frame_bytes = uint64_t{1} << 30;
  // An update whose L2 norm is above this is refused (0: no limit); NaN/Inf the decoder refuses.
  // A refused update is its client's answer for the round (failed, kind "rejected").
  double max_update_norm = 0;
  std::string checkpoint_dir;    // empty: no checkpoints
  std::string run_identity;      // saved in checkpoints; the application checks it on resume;
                                 // every worker checks it before round 1 (empty: no check)
  int64_t checkpoint_every = 1;
  bool resume = false;
  // A TorchScript model's archive (protocol::ModelCode): sent once, before its first task,
  // to each worker rank that `wants_code` names (an edge worker started without the file),
  // and again after the rank joins again (a new process). Null: no code travels.
  std::shared_ptr<const std::string> model_code;
  std::function<bool(int rank)> wants_code;
  // The attack bench (attack.h; simulate and mpi only): the hostile clients' updates are
  // rewritten before aggregation, then checked like any update (--max-update-norm).
  std::optional<AttackSpec> attack;
  // Client-level differential privacy (dp.h): Poisson sampling, clipping and noise at the
  // coordinator, epsilon in every round's report; the run stops before target_epsilon.
  // With it, `aggregate` and `min_clients` do not apply (every round releases its sum).
  // mode=local: the clients noise (WorkerOptions::local_privacy); the coordinator counts.
  std::optional<DpSpec> dp;
  // --secure-aggregation (secure_round.h): the coordinator learns only the sum of the
  // round's updates, at shared positions (randk:R, or every position), as fixed-point values
  // masked modulo 2^m. degree/threshold 0: the defaults for the round's size; ring_bits is
  // chosen per round. The mean is then unweighted (a client's sample count would travel in
  // the clear), and train_loss is not reported.
  std::optional<SecureAggregationSpec> secure_aggregation;
  // --share-weights (share_weights.h): weight matrices clustered at the end of round `after`,
  // their centroids trained from then on.
  std::optional<ShareWeightsSpec> share_weights;
};

class Coordinator {
 public:
  Coordinator(CoordinatorOptions options, transport::Transport& transport, Net model,
              std::shared_ptr<const Dataset> test);
  void add_observer(RoundObserver* observer) { observers_.push_back(observer); }
  // Runs every round, then tells the workers to shut down (also on error).
  Result<RunSummary> run();
  // The model with the current global state loaded.
  NetImpl& model();
  // The same, as a handle that outlives the coordinator.
  Net shared_model() {
    model();
    return state_.net;
  }
  // Per prunable layer of the original model, the units still kept (original numbering).
  const std::vector<std::vector<int64_t>>& kept_units() const { return pruning_.kept_units(); }
  const std::vector<std::string>& original_layer_names() const { return pruning_.layer_names(); }

 private:
  Status restore_checkpoint(int64_t* first_round);
  Status restore_privacy(const Bytes& saved);
  // Requests outside the rounds (worker_requests.cc): one control frame to every live
  // worker, one answer of kind `answer` from each, within `timeout`.
  struct WorkerAnswers {
    std::map<int, protocol::ControlMessage> replies;  // by rank
    std::set<int> silent;                             // asked, no answer in time
  };
  Result<WorkerAnswers> ask_workers(const protocol::ControlMessage& request, uint32_t round,
                                    protocol::ControlCommand answer, std::chrono::seconds timeout,
                                    const std::string& what);
  Status check_worker_configs();
  void forget_rejoined(std::set<int>& asked, const std::string& what);
  std::chrono::seconds config_check_timeout() const;
  Status save_round_checkpoint(int64_t round);
  Status save_client_states(int64_t round);
  // Who round `round` samples: seeded by (seed, round), or, under central --dp, by its secret.
  std::vector<int64_t> clients_of_round(int64_t round) const;
  Status run_round(int64_t round, const std::vector<int64_t>& sampled, RoundReport* report);
  std::vector<int> place(const std::vector<int64_t>& sampled) const;
  protocol::TrainTask task_for_round(int64_t round, double lr) const;
  // After a phase: ranks with a missing reply get a full model next time; link time.
  void close_phase(RoundCollection& phase);
  void advance_view(uint64_t seed, RoundReport* report);
  // Sends each sampled client `task` (adjusted per client if given) with the current view.
  using PerClientTask = std::function<void(int64_t client, protocol::TrainTask* task)>;
  void dispatch(const std::vector<int64_t>& sampled, protocol::TrainTask task,
                const PerClientTask& per_client, RoundCollection& phase);
  // Receives until every client answered, the deadline passed, or the answers stopped for
  // straggler_timeout_s.
  Status collect(RoundCollection& phase);
  Status accept(transport::Message message, RoundCollection& phase);
  // The checks and decoding of a frame that answers the current task of its client.
  Status accept_answer(const protocol::Frame& f, const std::string& from, int64_t size, RoundCollection& phase);
  // Pending clients of ranks that joined again since their tasks went out (a new process,
  // which never got them): missing now, not waited for.
  void drop_tasks_of_rejoined(RoundCollection& phase);
  Status accept_failure(int64_t client, ByteReader& r, RoundCollection& phase);
  void record_failure(int64_t client, protocol::TaskFailure failure, RoundCollection& phase);
  // One frame from any worker, waiting at most until `deadline` (none: no limit).
  transport::Received receive_until(std::optional<Clock::time_point> deadline);
  // Every frame leaves through here (its bytes are counted).
  Status send_to(int rank, Bytes frame);
  // The model's code to `rank` before its first task, if it wants it (options_.model_code).
  Status send_code_if_wanted(int rank, RoundReport* report);
  void lose_rank(int rank, RoundCollection& phase);
  Status aggregate(std::vector<ClientUpdate>& updates, int64_t round, RoundReport* report);
  // The round's delta from `updates` (sorted by client id): the rule's, or --dp's.
  Result<at::Tensor> combine(std::vector<ClientUpdate>& updates, int64_t round, RoundReport* report);
  // --dp: epsilon and delta after this round (and, locally, count its clients).
  void report_privacy(const std::vector<int64_t>& sampled, RoundReport* report);
  // Central --dp with DI pruning: q_s of the statistics rounds (0: none), and how many
  // statistics rounds rounds 1..round can hold (every step round: the budget's plan).
  double private_stats_fraction() const;
  int64_t stats_rounds_through(int64_t round) const;
  // --attack: the hostile clients' updates of the phase rewritten, and refused as a client's
  // would be (collect.cc).
  void attack_updates(RoundCollection& phase);
  // Too few answers (min_clients, or the rule's own minimum): the model stays, the round
  // says `skipped`; kMaxFailedRounds in a row end the run.
  Status skip_round(int64_t round, const std::string& why, RoundReport* report);
  void evaluate_into(RoundReport* report);
  // kShutdown to every live worker; `why` (empty for a finished run) is what they print.
  void shutdown_workers(const std::string& why);
  // An error when stop_requested says so.
  Status check_stop() const;
  int alive_workers() const;
  // Ranks that joined again since we last looked (transport joins()): alive, and holding no
  // model we can rely on (a full model next time).
  void refresh_ranks();
  // Before the configuration check: where the run goes on from (kResume to every worker).
  void announce_resume_point(int64_t first_round);
  // Secure aggregation (secure_aggregation.cc): the round's task block for `n` clients, the
  // steps after the training phase, and the answers of each step.
  protocol::SecAggTask secagg_task(int64_t n) const;
  // The masked inputs a round needs before anything is unmasked: --min-clients, at least 2.
  // Under --dp mode=distributed each client's noise share is 1/this of the sum's variance.
  int64_t secure_min_survivors() const;
  // A stats round's block: A the activation bound, as many bits as the ring holds for `n`.
  protocol::SecAggTask secagg_stats_task(int64_t n) const;
  Status finish_secure_round(int64_t round, RoundReport* report);
  // Steps 2-4 of secure_round_ after its first phase; `*failed` says why nothing was
  // unmasked (too few clients at a step), the status is an error that ends the run.
  Status secure_steps(int64_t round, RoundReport* report, std::optional<std::string>* failed);
  // A stats round under secure aggregation: the evidence is the unmasked sum, or left empty
  // (logged: pruning waits for its next step round) when nothing was unmasked.
  Status secure_stats_round(int64_t round, const std::vector<int64_t>& sampled, protocol::TrainTask task,
                            pruning::Evidence* evidence, RoundReport* report);
  using StepPayload = std::function<Bytes(int64_t client)>;
  // Sends `down` to each of `clients` (at the rank it advertised from), then collects `phase`.
  Status secure_step(const std::vector<int64_t>& clients, protocol::FrameKind down, const StepPayload& payload,
                     RoundCollection& phase);
  // `r` is after the update metadata `meta` (the advert) or at the payload's start (null).
  Status accept_secagg(const protocol::FrameHeader& h, ByteReader& r, const std::string& from, int64_t size,
                       const protocol::UpdateMeta* meta, RoundCollection& phase);
  // The global model moves by `delta` (the server optimizer); a non-finite model ends the run.
  Status step_model(const at::Tensor& delta, int64_t round);
  // Pruning (prune_step.cc).
  Status maybe_prune(int64_t round, RoundReport* report);
  Status stats_round(int64_t round, pruning::Evidence* evidence, RoundReport* report);
  Status accept_stats(int64_t client, ByteReader& r, const protocol::UpdateMeta& meta,
                      int64_t frame_bytes, RoundCollection& phase);
  Status adopt_plan(const pruning::StructurePlan& plan, int64_t round);
  void send_plan(const pruning::StructurePlan& plan);

  // --share-weights (share_step.cc).
  void begin_shared_round(int64_t round, protocol::TrainTask* task);
  Status decode_update(ByteReader& r, const std::vector<protocol::CodecId>& codecs, at::Tensor* delta);
  void keep_on_zeros_and_clusters();
  Status maybe_share_weights(int64_t round);

  CoordinatorOptions options_;
  transport::Transport& transport_;
  GlobalModel state_;
  std::shared_ptr<const Dataset> test_;
  std::vector<bool> alive_;  // per rank
  std::vector<uint64_t> joins_;  // per rank, transport joins() when last looked
  TaskLedger ledger_;            // tasks sent and not answered yet
  std::vector<RoundObserver*> observers_;
  RunSummary totals_;
  RoundReport last_eval_;
  int failed_rounds_ = 0;
  bool aggregated_ = false;  // some round of this run aggregated updates
  int64_t wire_bytes_ = 0;  // every frame this coordinator sent or received
  PruningSchedule pruning_;
  Bytes code_frame_;              // options_.model_code as a frame (empty: none)
  std::vector<char> code_sent_;   // per rank, since it last joined
  std::set<int64_t> hostile_;     // --attack's clients
  std::optional<PrivateAggregation> dp_;  // --dp (central)
  std::optional<LocalAccounting> local_dp_;  // --dp mode=local
  std::optional<SecureRound> secure_round_;   // --secure-aggregation: the round in progress
  std::optional<WeightClusters> clusters_;    // --share-weights: the round model's clusters
  at::Tensor pruned_zeros_;                   // --share-weights sparsity=: the round model's zeros (bool)
  // The last round to run: --rounds, or under central --dp the last one target_epsilon allows
  // (a local run finds it as it goes).
  int64_t last_round_ = 0;
};

}  // namespace xfed::coordinator
