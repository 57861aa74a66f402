// Compression stages: the per-tensor steps of a Pipeline and the one registry that names
// them. Two kinds, applied in this order, each optional in a pipeline:
//   sparsifier  chooses the positions of a tensor that are sent (index_coding.h codes them)
//   values      writes the chosen values (all of them when nothing sparsifies)
// A stage is parsed from its text ("topk:0.01", "qsgd:4:256"), named on the wire by the
// codec id its registration declares (wire format: an id is never reused or changed), puts
// what its decoder needs in the payload's descriptor, and every parameter in a TrainTask
// after its task tag (the id, except where format version 2 fixed another byte). The
// payload's lossless step (zstd) belongs to the pipeline, not to this registry.
// The built-ins (builtin_stages.cc) register through register_stage like user stages.
// Stages are immutable and shared across threads.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compression/codec_ids.h"
#include "core/coding.h"
#include "core/status.h"

namespace xfed::compression {

enum class StageSlot : uint8_t { kSparsifier, kValues };

class Stage {
 public:
  virtual ~Stage() = default;
  // parse(spec()) gives the same stage back (numbers in %.17g).
  virtual std::string spec() const = 0;
  // After the codec id in a payload's descriptor: what decoding needs (may be nothing).
  virtual void write_descriptor(ByteWriter&) const {}
  // After the task tag in a TrainTask: every parameter, read back by StageDef::read_params.
  virtual void write_params(ByteWriter&) const {}
};

class Sparsifier : public Stage {
 public:
  // The positions sent: sorted, distinct, below n (the pipeline checks), deterministic for
  // the same input and seed.
  virtual std::vector<uint32_t> select(const float* x, size_t n, uint64_t seed) const = 0;
  // The fraction sent, for sparsity warm-up; nullopt: not a ratio (threshold, nonzero).
  virtual std::optional<double> ratio() const { return std::nullopt; }
  // The same stage sending `ratio` (only called when ratio() has a value).
  virtual std::shared_ptr<const Sparsifier> with_ratio(double) const { return nullptr; }
  // Leave out entries that the value stage rounds to zero (they decode to zero anyway).
  virtual bool drops_zeros() const { return false; }
};

class ValueStage : public Stage {
 public:
  // Appends the code of v[0..k); `reconstructed` (k floats, may be null) receives exactly
  // what decode() will give. Inputs are finite (the pipeline checks).
  virtual void encode(const float* v, size_t k, uint64_t seed, Bytes* out,
                      float* reconstructed) const = 0;
  // Outside bytes: bounds-checked, a corruption error on anything malformed; k is at most
  // the tensor's size, which the caller has checked.
  virtual Status decode(ByteReader& r, size_t k, float* out) const = 0;
};

// A stage kind's registration. `parse` gets the text after the name split at ':' and
// returns the stage or a one-line reason; `read_descriptor` and `read_params` read outside
// bytes and return nullptr on anything malformed or out of range (as parse would refuse).
struct StageDef {
  std::string name;
  StageSlot slot = StageSlot::kValues;
  uint8_t id = 0;        // codec id: 1..255, unique among all stages
  std::optional<uint8_t> task_tag;  // the byte naming it in a task, if not its id (built-ins)
  std::string usage;     // "qsgd:B[:BUCKET]": for error messages and --help
  std::function<Result<std::shared_ptr<const Stage>>(const std::vector<std::string>& args)> parse;
  std::function<std::shared_ptr<const Stage>(ByteReader&)> read_descriptor;
  std::function<std::shared_ptr<const Stage>(ByteReader&)> read_params;
  // Whether every function is there (what the registry asks of any factory).
  explicit operator bool() const { return parse && read_descriptor && read_params; }
};

// Refuses a bad or taken name, a taken id or task tag (naming the holder), id 0, a missing
// function, and a stage that does not fit its slot.
Status register_stage(StageDef def);

// Lookups (after the built-ins are in). Unknown: a usage error listing the stages.
Result<StageDef> find_stage(const std::string& name);
std::optional<StageDef> stage_by_id(uint8_t id);
std::optional<StageDef> stage_by_task_tag(StageSlot slot, uint8_t tag);
// "topk:R|randk:R|…" for one slot, in id order: what error messages list.
std::string stage_usages(StageSlot slot);
// The stage names the program registered, not built in (sorted): part of the run identity.
std::vector<std::string> registered_stage_names();

// The built-ins, added once by the registry (builtin_stages.cc).
void register_builtin_stages();

}  // namespace xfed::compression
