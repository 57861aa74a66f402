// Payloads of the round protocol's frames (coordinator/coordinator.h lists the steps).
//
//   model  : TrainTask, model spec (JSON), full state           coordinator -> client
//   delta  : TrainTask, u32 base version, state delta           coordinator -> client
//            (new view = view at base version + decoded delta; header carries the new one)
//   update : UpdateMeta, state delta (w_local - w_round)        client -> coordinator
//   stats  : UpdateMeta, pruning::Evidence                      client -> coordinator
//   plan   : pruning::StructurePlan                             coordinator -> worker
//   control: ControlMessage                                     coordinator <-> worker
//   failure: TaskFailure                                        client -> coordinator
//   code   : ModelCode (a TorchScript archive)                  coordinator -> worker
// All fields little-endian via core/coding.h; readers are bounds-checked and return false
// on truncation, which the caller reports with the peer's name.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "compression/pipeline.h"
#include "core/coding.h"
#include "core/crypto.h"
#include "core/train_options.h"

namespace xfed::protocol {

// wire format: never change these values.
enum class TaskMode : uint8_t { kTrain = 0, kStats = 1 };

constexpr double kMaxClipRms = 1e6;  // TrainTask::stats_clip_rms (--dp stats_clip)

// --secure-aggregation, as a task carries it: a training task's client sends its update's
// values at the round's shared positions as fixed-point numbers, masked (secagg/session.h),
// instead of an update frame; a stats task's client sends its class statistics over their
// bounds (pruning/masked_stats.h: `range` is then the activation bound A, the values lie in
// [-1, 1]) instead of a stats frame. On the wire only when set (bit 16 of the task's flags),
// so a task without it is the bytes it always was.
constexpr double kMaxSecAggDp = 1e6;  // SecAggTask::dp_clip and dp_noise

struct SecAggTask {
  uint32_t degree = 0;     // k: neighbours per client (even, >= 2)
  uint32_t threshold = 0;  // t: shares that recover a client's secrets (>= 2)
  double range = 0;        // R: values clipped to [-R, R] (finite, > 0)
  uint8_t bits = 0;        // per value, 1..31
  uint8_t ring_bits = 0;   // m: the ring 2^m, bits..32 (the coordinator's choice for the round's clients)
  // --dp mode=distributed: the client clips its update to dp_clip (L2) and adds
  // N(0, (dp_noise · dp_clip)^2) per value, its share of the sum's noise; 0: none.
  double dp_clip = 0, dp_noise = 0;

  void write(ByteWriter& w) const;
  [[nodiscard]] bool read(ByteReader& r);
};

// What a client must do this round. Sent by the coordinator so that the learning-rate
// schedule and strategy live in one place. kStats: gather pruning evidence on the model
// instead of training (worker/stats_collector.h), reply with a stats frame.
struct TrainTask {
  TaskMode mode = TaskMode::kTrain;
  TrainOptions train;         // train.seed: the run seed; the client derives its own from (seed, round, id)
  compression::Pipeline uplink;              // compression of the update (binary, full precision)
  bool error_feedback = true;   // keep what a lossy uplink did not send (EF)
  double ef_momentum = 0.0;     // DGC momentum correction (0: plain EF)
  // kStats only:
  uint32_t stats_samples = 0;   // 0: all local samples
  double stats_noise = 0.0;     // Gaussian noise std added before upload
  bool spatial = false;         // conv taps: positions as samples
  bool taylor = false;          // also gather activation x gradient sums
  bool skip_input = false;      // the coordinator already holds this client's input stats
  bool fp32_stats = false;      // float32 activations unrounded (default: bfloat16-rounded)
  double stats_clip_rms = 0.0;  // > 0: activation vectors clipped to this RMS (central --dp)
  std::optional<SecAggTask> secagg;  // answer with a key advert, then mask

  void write(ByteWriter& w) const;
  [[nodiscard]] bool read(ByteReader& r);
};

// What a client reports with its update (compact: it travels with every update).
struct UpdateMeta {
  uint64_t samples = 0;       // aggregation weight (varint)
  float train_loss = 0.0f;    // mean loss over the local epochs
  float seconds_compute = 0.0f;
  float seconds_decode = 0.0f;
  float seconds_encode = 0.0f;
  uint32_t base_crc = 0;      // CRC-32 of the model state the client trained from

  void write(ByteWriter& w) const;
  [[nodiscard]] bool read(ByteReader& r);
};

// Commands between coordinator and workers outside the rounds.
// wire format: never change these values.
enum class ControlCommand : uint8_t {
  kShutdown = 1,          // coordinator -> worker: stop serving
  kSaveClientState = 2,   // coordinator -> worker: save your clients' state for the
                          // checkpoint of header.round (worker/client_state_file.h)
  kClientStateSaved = 3,  // worker -> coordinator: done (text empty) or why not
  kCheckConfig = 4,       // coordinator -> worker, before round 1: the run identity (text);
                          // does the worker's own configuration give the same?
  kConfigChecked = 5,     // worker -> coordinator: text empty when it does, else the first
                          // difference ("--lr is '0.1' here")
  kResume = 6,            // coordinator -> worker, before the configuration check: the run
                          // goes on after the checkpoint of header.round (0: a fresh start),
                          // whose structure version is the text; a worker whose clients'
                          // state is from elsewhere restores it from its file (or clears it)
};

// Control payload: u8 command, then for kClientStateSaved, kCheckConfig, kConfigChecked and
// kResume a text (string, <= 64 KiB); a kShutdown may carry one too (why the run stops early:
// the worker prints it), and without it is the one byte it always was.
struct ControlMessage {
  ControlCommand command = ControlCommand::kShutdown;
  std::string text;  // an error, a run identity or a difference, per command

  void write(ByteWriter& w) const;
  [[nodiscard]] bool read(ByteReader& r);
  // A whole control frame (header: kind control, round, sender).
  Bytes frame(uint32_t round, uint32_t sender) const;
};

// Why a client could not do its task. A worker answers every task it received, with an
// update, statistics or this, so that the coordinator never waits for an answer that will
// not come (header: round, client, model version of the task).
// wire format: never change these values.
enum class FailureKind : uint8_t {
  kDiverged = 1,   // local training produced NaN/inf (learning rate too high?)
  kBadTask = 2,    // the task or model could not be decoded or applied
  kInternal = 3,   // anything else (out of memory, a bug)
  kRejected = 4,   // the coordinator refused the update (non-finite, or a norm above
                   // --max-update-norm); recorded by the coordinator, never read from a worker
};
const char* failure_kind_name(FailureKind kind);

struct TaskFailure {
  FailureKind kind = FailureKind::kInternal;
  std::string reason;  // one line, at most 1 KiB on the wire

  void write(ByteWriter& w) const;
  [[nodiscard]] bool read(ByteReader& r);
};

// The model's code: the TorchScript archive of `--model torchscript:FILE.pt`, sent once to
// each worker that does not hold it, before its first model frame (a frame like any other:
// CRC-checked, chunked by the edge transport, within max_frame_bytes). Payload: the
// archive's SHA-256 (32 bytes), then the archive to the end. read() checks the digest, so a
// worker knows what it runs (and may pin it); the archive is code, run only from the
// authenticated coordinator.
constexpr uint64_t kMaxModelCodeBytes = uint64_t{256} << 20;

struct ModelCode {
  std::shared_ptr<const std::string> archive;

  void write(ByteWriter& w) const;
  // False on truncation, an empty or oversized archive, or a digest that does not match.
  [[nodiscard]] bool read(ByteReader& r);
  // A whole code frame (header: kind code, round, sender 0).
  Bytes frame(uint32_t round) const;
};

}  // namespace xfed::protocol
