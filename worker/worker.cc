#include "worker/worker.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>

#include "compression/state_codec.h"
#include "core/check.h"
#include "core/log.h"
#include "core/model_state.h"
#include "core/parse.h"
#include "core/privacy_noise.h"
#include "core/rng.h"
#include "core/run_identity.h"
#include "core/timing.h"
#include "core/weight_clusters.h"
#include "pruning/masked_stats.h"
#include "worker/client_state_file.h"
#include "worker/local_trainer.h"
#include "worker/stats_collector.h"

namespace xfed::worker {

TrainOptions train_options(const protocol::TrainTask& t, uint64_t seed) {
  TrainOptions o = t.train;
  o.seed = seed;
  return o;
}

namespace {

using protocol::Frame;
using protocol::FrameKind;

StatsRequest stats_request(const protocol::TrainTask& t, uint64_t seed) {
  return StatsRequest{t.stats_samples, t.stats_noise, t.spatial, t.taylor, t.skip_input, seed,
                      t.fp32_stats ? pruning::ClassStats::Rounding::kNone : pruning::ClassStats::Rounding::kBf16,
                      t.stats_clip_rms, t.secagg ? t.secagg->range : 0.0};
}

}  // namespace

Worker::Worker(transport::Transport& transport, std::shared_ptr<const ClientDataSource> data,
               WorkerOptions options)
    : transport_(transport), data_(std::move(data)), options_(std::move(options)),
      state_point_(options_.resumed_from), resume_failure_(options_.resume_failure) {
  if (!options_.client_state) options_.client_state = std::make_shared<ClientStateStore>();
  if (options_.threads > 1) {
    pool_nets_.resize(options_.threads);
    pool_ = std::make_unique<TaskPool>(options_.threads, options_.thread_init);
  }
}

void Worker::finish_running_tasks() {
  if (pool_) pool_->drain();
}

Status Worker::run() {
  const std::string me = transport::peer_name(transport_.rank());
  while (true) {
    auto got = transport_.recv({transport::kAnySource, std::chrono::milliseconds(-1)});
    if (got.kind == transport::Received::Kind::kError && got.message.source > 0)
      continue;  // another worker went away: not our business
    if (got.kind != transport::Received::Kind::kMessage) {
      finish_running_tasks();
      return got.status.prefixed(me);
    }
    auto frame = protocol::decode_frame(std::move(got.message.bytes), options_.max_frame_bytes);
    if (!frame) {
      log_warning(me + ": dropped frame from " + transport::peer_name(got.message.source) +
                  ": " + frame.message());
      continue;
    }
    const auto kind = frame.value().header.kind;
    if (kind == FrameKind::kControl || kind == FrameKind::kPlan) finish_running_tasks();
    if (kind == FrameKind::kControl) {
      if (!handle_control(frame.value()))  // shutdown
        return config_difference_.empty() ? Status::ok() : Status::usage(me + ": " + config_difference_);
      continue;
    }
    if (kind == FrameKind::kPlan) {
      if (auto st = handle_plan(frame.value()); !st) log_warning(me + ": bad plan: " + st.message());
      continue;
    }
    if (kind == FrameKind::kCode) {
      if (auto st = handle_code(frame.value()); !st) {
        finish_running_tasks();
        return Status::usage(me + ": " + st.message());
      }
      continue;
    }
    if (kind == FrameKind::kSecAggKeys || kind == FrameKind::kSecAggShares || kind == FrameKind::kSecAggUnmask) {
      handle_secagg_step(frame.value());
      continue;
    }
    if (kind != FrameKind::kModel && kind != FrameKind::kDelta && kind != FrameKind::kSeededModel) {
      log_warning(me + ": ignored unexpected " +
                  std::string(protocol::frame_kind_name(kind)) + " frame");
      continue;
    }
    Job job;
    std::optional<protocol::TaskFailure> failure;
    try {
      failure = prepare(frame.value(), &job);
    } catch (const std::exception& e) {  // out of memory, a failed check: still answer
      failure = protocol::TaskFailure{protocol::FailureKind::kInternal, one_line(e)};
      view_version_ = -1;  // the view may be half-updated: the next task brings a full one
    }
    if (failure) {
      send_failure(frame.value().header, *failure);
    } else if (pool_) {
      // A late task of an earlier phase (deadlines) must not run beside the same client's next one.
      const std::pair<uint32_t, int> phase{job.header.round, static_cast<int>(job.task.mode)};
      if (phase != pool_phase_) finish_running_tasks();
      pool_phase_ = phase;
      pool_->submit([this, job = std::move(job)](int thread) { run_job(job, pool_nets_[thread]); });
    } else {
      run_job(job, net_);
    }
  }
}

Status Worker::handle_code(const Frame& frame) {
  protocol::ModelCode code;
  auto r = frame.payload_reader();
  if (!code.read(r)) return Status::corruption("a code frame that does not decode (truncated, empty, or its SHA-256 differs)");
  if (!options_.accept_code) return Status::usage("the coordinator sent model code, which this worker does not take");
  return options_.accept_code(code.archive);
}

void Worker::send_failure(const protocol::FrameHeader& task, const protocol::TaskFailure& failure) {
  Bytes payload;  // the coordinator logs it
  ByteWriter w(&payload);
  failure.write(w);
  protocol::FrameHeader out{FrameKind::kFailure, task.round, static_cast<uint32_t>(transport_.rank()),
                            task.client, task.model_version, {protocol::CodecId::kNone}};
  if (auto st = transport_.send(0, protocol::encode_frame(out, payload)); !st)
    log_warning(transport::peer_name(transport_.rank()) + ": could not report that client " +
                std::to_string(task.client) + " failed (" + failure.reason + "): " + st.message());
}

std::optional<protocol::TaskFailure> Worker::prepare(const Frame& frame, Job* job) {
  using protocol::FailureKind;
  const auto fail = [](FailureKind kind, const std::string& why) {
    return std::optional<protocol::TaskFailure>(protocol::TaskFailure{kind, why});
  };
  const auto& h = frame.header;
  const auto start = Clock::now();
  auto r = frame.payload_reader();
  protocol::TrainTask task;
  if (frame.version < 2)
    return fail(FailureKind::kBadTask, "a task in frame format " + std::to_string(frame.version) +
                                           " (from an older xfed; this worker reads format 2 tasks)");
  if (!task.read(r)) return fail(FailureKind::kBadTask, "truncated or invalid training task");
  if (!data_->has_client(h.client))
    return fail(FailureKind::kBadTask, "this worker holds no data for client " + std::to_string(h.client));
  const bool fresh = view_version_ != h.model_version;
  // A sibling client's frame this round may already have brought us to this version.
  auto st = !fresh                             ? Status::ok()
            : h.kind == FrameKind::kModel       ? load_full_model(r, frame)
            : h.kind == FrameKind::kSeededModel ? build_seeded_model(r, frame)
                                                : apply_delta(r, frame);
  if (!st) {
    view_version_ = -1;  // whatever we held is no longer trustworthy
    return fail(FailureKind::kBadTask, st.message());
  }
  if (fresh) {
    view_version_ = h.model_version;
    view_crc_ = state_crc(view_);
  }
  *job = Job{h, std::move(task), net_->spec(), layout_, view_, view_crc_,
             std::chrono::duration<double>(Clock::now() - start).count()};
  return std::nullopt;
}

void Worker::run_job(const Job& job, Net& net) {
  using protocol::FailureKind;
  const auto& h = job.header;
  const bool stats = job.task.mode == protocol::TaskMode::kStats;
  std::optional<protocol::TaskFailure> failure;
  try {
    if (!net || net->spec() != job.spec) net = make_model(job.spec);
    auto payload = stats ? gather_stats(job, *net) : train_and_encode(job, *net);
    if (!payload) {
      failure = protocol::TaskFailure{
          payload.code() == StatusCode::kDiverged ? FailureKind::kDiverged : FailureKind::kInternal,
          payload.message()};
    } else {
      const bool secure = job.task.secagg.has_value();
      protocol::FrameHeader out{secure ? FrameKind::kSecAggKeys : stats ? FrameKind::kStats : FrameKind::kUpdate,
                                h.round, static_cast<uint32_t>(transport_.rank()), h.client, h.model_version,
                                stats || secure ? std::vector<protocol::CodecId>{protocol::CodecId::kNone}
                                                : job.task.uplink.codec_ids()};
      ++tasks_done_;
      state_moved_ = true;
      if (auto sent = transport_.send(0, protocol::encode_frame(out, payload.value())); !sent)
        log_warning(transport::peer_name(transport_.rank()) + ": " + sent.message());
    }
  } catch (const std::exception& e) {  // out of memory, a failed check: still answer
    failure = protocol::TaskFailure{FailureKind::kInternal, one_line(e)};
  }
  if (failure) send_failure(h, *failure);
}

Result<Bytes> Worker::train_and_encode(const Job& job, NetImpl& net) {
  const auto& h = job.header;
  const auto& task = job.task;
  auto t = Clock::now();
  const uint64_t client_seed = mix_seed(task.train.seed, kStreamLocalTraining, h.round, h.client);
  write_state(net, job.view);
  const auto result = train_locally(net, data_->client_data(h.client), train_options(task, client_seed));
  auto delta = read_state(net).sub_(job.view);
  if (!std::isfinite(result.mean_loss) || !at::isfinite(delta).all().item<bool>())
    return Status::diverged("local training of client " +
                         std::to_string(h.client) + " produced non-finite values (loss " +
                         std::to_string(result.mean_loss) + "; lower --lr?)");
  if (const auto privacy = privacy_of(task)) delta = privatize_update(delta, *privacy, h.round, h.client);
  protocol::UpdateMeta meta;
  meta.seconds_decode = static_cast<float>(job.seconds_decode);
  meta.seconds_compute = static_cast<float>(seconds_since(t));
  // Under secure aggregation the mean is unweighted: the client does not say how many
  // samples it holds (1), nor its loss, which is neither noised nor masked (nor does a
  // --dp client).
  meta.samples = task.secagg ? 1 : static_cast<uint64_t>(result.samples);
  meta.train_loss = options_.local_privacy || task.secagg ? 0.0f : static_cast<float>(result.mean_loss);
  meta.base_crc = job.view_crc;
  if (task.secagg) {
    meta.seconds_compute = static_cast<float>(seconds_since(t));
    ClientStateStore::Lease lease = options_.client_state->lease(h.client, job.layout.total, false);
    return secure_.begin(h.client, h.round, task, delta, job.layout, meta, lease.state());
  }

  t = Clock::now();
  // Shared weights: the update is the centroids' change (core/weight_clusters.h).
  std::optional<WeightClusters> clusters;
  if (task.train.shared_weights > 0) {
    clusters = WeightClusters::of(job.view, job.layout);
    delta = clusters->to_centroids(delta);
  }
  const StateLayout& layout = clusters ? clusters->centroid_layout() : job.layout;
  const auto& pipe = task.uplink;
  // Only clients with error feedback keep state (a lossless uplink sends everything).
  ClientState stateless;
  std::optional<ClientStateStore::Lease> lease;  // held while the state changes (error_feedback.h)
  if (task.error_feedback && !pipe.lossless())
    lease.emplace(options_.client_state->lease(h.client, layout.total, task.ef_momentum > 0));
  auto& state = lease ? lease->state() : stateless;
  auto update = compress_update(delta, layout, pipe, mix_seed(client_seed, kStreamCodec),
                                task.error_feedback, task.ef_momentum, state);
  if (!update) return update.status();
  meta.seconds_encode = static_cast<float>(seconds_since(t));
  Bytes payload;
  ByteWriter w(&payload);
  meta.write(w);
  w.put_bytes(update.value().payload.data(), update.value().payload.size());
  return payload;
}

// --dp mode=local: the worker's own clip and noise; mode=distributed: the task's share of the
// sum's noise, with this process's secret.
std::optional<LocalPrivacy> Worker::privacy_of(const protocol::TrainTask& task) const {
  if (task.secagg && task.secagg->dp_noise > 0) {
    LocalPrivacy p{task.secagg->dp_clip, task.secagg->dp_noise, process_secret_};
    if (options_.local_privacy) p.secret = options_.local_privacy->secret;
    return p;
  }
  if (options_.local_privacy && options_.local_privacy->noise > 0) return options_.local_privacy;
  return std::nullopt;
}

void Worker::handle_secagg_step(const Frame& frame) {
  const auto& h = frame.header;
  const auto answer = secure_.answer(frame);
  if (!answer) {
    log_warning(transport::peer_name(transport_.rank()) + ": " + answer.message());
    send_failure(h, protocol::TaskFailure{protocol::FailureKind::kBadTask, answer.message()});
    return;
  }
  // adverts -> sealed shares -> masked input; an unmask request -> its reply
  const FrameKind reply = h.kind == FrameKind::kSecAggKeys     ? FrameKind::kSecAggShares
                          : h.kind == FrameKind::kSecAggShares ? FrameKind::kSecAggMasked
                                                               : FrameKind::kSecAggUnmask;
  protocol::FrameHeader out{reply, h.round, static_cast<uint32_t>(transport_.rank()), h.client, h.model_version,
                            {protocol::CodecId::kNone}};
  if (auto sent = transport_.send(0, protocol::encode_frame(out, answer.value())); !sent)
    log_warning(transport::peer_name(transport_.rank()) + ": " + sent.message());
}

Result<Bytes> Worker::gather_stats(const Job& job, NetImpl& net) {
  const auto& h = job.header;
  const auto& task = job.task;
  const auto t = Clock::now();
  write_state(net, job.view);
  const auto seed = mix_seed(task.train.seed, kStreamStats, h.round, h.client);
  const auto data = data_->client_data(h.client);
  const auto evidence = collect_evidence(net, data, stats_request(task, seed));
  protocol::UpdateMeta meta;
  meta.samples = task.secagg ? 1  // its counts are masked: not said in the clear
                             : static_cast<uint64_t>(task.stats_samples > 0
                                                         ? std::min<int64_t>(task.stats_samples, data.size())
                                                         : data.size());
  meta.seconds_decode = static_cast<float>(job.seconds_decode);
  meta.seconds_compute = static_cast<float>(seconds_since(t));
  meta.base_crc = job.view_crc;
  if (task.secagg) {  // the statistics over their bounds, masked (pruning/masked_stats.h)
    if (task.stats_samples == 0) return Status::error("masked statistics need a sample bound (stats_samples)");
    const auto units = pruning::gathered_tap_units(net, task.skip_input);
    const auto values = pruning::to_unit_values(evidence, units, data.classes,
                                                pruning::StatsBounds{task.stats_samples, task.secagg->range});
    return secure_.begin_statistics(h.client, h.round, task, values, meta);
  }
  Bytes payload;
  ByteWriter w(&payload);
  meta.write(w);
  evidence.write(w);
  return payload;
}

bool Worker::handle_control(const Frame& frame) {
  using protocol::ControlCommand;
  auto r = frame.payload_reader();
  protocol::ControlMessage control;
  if (!control.read(r)) {
    log_warning(transport::peer_name(transport_.rank()) + ": ignored a malformed control frame");
    return true;
  }
  if (control.command == ControlCommand::kShutdown) {
    if (!control.text.empty())
      log_warning(transport::peer_name(transport_.rank()) + ": the coordinator stopped the run: " + control.text);
    return false;
  }
  if (control.command == ControlCommand::kSaveClientState) save_client_state(frame.header.round);
  if (control.command == ControlCommand::kCheckConfig) answer_config_check(control.text);
  if (control.command == ControlCommand::kResume) {
    int64_t structure = 0;
    if (!parse_int64(control.text, &structure) || structure < 0)
      log_warning(transport::peer_name(transport_.rank()) + ": ignored a resume point with structure '" +
                  control.text + "'");
    else
      resume_at({static_cast<int64_t>(frame.header.round), structure});
  }
  return true;
}

// Nothing to do when the clients' state already is at `point` (every worker of a fresh run,
// a resumed process); otherwise it is restored from this worker's file (or cleared).
void Worker::resume_at(const ResumePoint& point) {
  if (!state_moved_ && state_point_ == point) return;
  const std::string me = transport::peer_name(transport_.rank());
  resume_failure_.clear();
  log_info(me + ": the coordinator goes on after round " + std::to_string(point.round) +
           "; its clients' state follows");
  if (point.round == 0) {
    options_.client_state->reset(point.structure_version);
  } else if (options_.client_state_file.empty()) {
    log_warning(me + ": no file to restore its clients' state from; their residuals start from zero");
    options_.client_state->reset(point.structure_version);
  } else if (auto st = restore_client_state(*options_.client_state, options_.client_state_file, point); !st) {
    resume_failure_ = st.message();
  }
  state_point_ = point;
  state_moved_ = false;
}

void Worker::answer_config_check(const std::string& coordinator_identity) {
  const std::string me = transport::peer_name(transport_.rank());
  if (options_.run_identity.empty()) {
    // nothing to compare (the coordinator admitted this worker on what it brought)
  } else if (const auto diff = first_difference(coordinator_identity, options_.run_identity)) {
    config_difference_ = "runs another configuration than the coordinator: " + diff->key + " is '" +
                         diff->other_value + "' on " + me + " and '" + diff->reference_value +
                         "' on the coordinator (every rank needs the same flags)";
  }
  if (config_difference_.empty() && !resume_failure_.empty()) config_difference_ = resume_failure_;
  const protocol::ControlMessage reply{protocol::ControlCommand::kConfigChecked, config_difference_};
  if (auto st = transport_.send(0, reply.frame(0, static_cast<uint32_t>(transport_.rank()))); !st)
    log_warning(me + ": could not answer the configuration check: " + st.message());
}

// Saves (unless a sibling sharing the store already did for this round), then confirms.
void Worker::save_client_state(uint32_t round) {
  const std::string me = transport::peer_name(transport_.rank());
  protocol::ControlMessage reply{protocol::ControlCommand::kClientStateSaved, {}};
  if (options_.client_state_file.empty()) {
    reply.text = "this worker has no file for its clients' state";
  } else if (options_.client_state->claim_save(round)) {
    if (auto st = worker::save_client_state(*options_.client_state, options_.client_state_file, round); !st)
      reply.text = st.message();
  }
  if (!reply.text.empty()) log_error(me + ": " + reply.text);
  if (auto st = transport_.send(0, reply.frame(round, static_cast<uint32_t>(transport_.rank()))); !st)
    log_warning(me + ": could not confirm the saved client state: " + st.message());
}

}  // namespace xfed::worker
