// Pipeline: the compression applied to every tensor of a model state or update, described
// by a string of comma-separated stages in this order, each optional:
//
//   sparsifier  topk:R | randk:R | dgc:R | threshold:T | nonzero  (R = fraction sent)
//   values      fp16 | bf16 | qsgd:B[:BUCKET] | uniform:B[:BUCKET] | sign[:BUCKET]
//   zstd        zstd[:LEVEL]                                 (over the whole payload)
// (and the stages a program registered, stage.h) or "none". E.g. "topk:0.01,qsgd:4,zstd:3". Indices are coded by index_coding.h.
// `nonzero` sends every entry that is not zero, and leaves out those its value codec
// rounds to zero: the downlink's form of a round's sparse aggregate.
//
// A tensor's encoding: varint k+1 (0 = dense, all n values follow), the index block if
// sparse, then the value block (quantize.h). The decoder needs no string: it rebuilds the
// pipeline from a short descriptor written once per payload (write_descriptor) and checks
// it against the frame's codec ids. Encoding is deterministic (stochastic stages use the
// given seed). Immutable after parse; safe to share across threads.
#pragma once

#include <string>
#include <vector>

#include "compression/codec_ids.h"
#include "compression/stage.h"
#include "core/coding.h"
#include "core/status.h"

namespace xfed::compression {

// Each stage of a pipeline is a registered stage (stage.h), named on the wire by its codec
// id; zstd is the pipeline's own lossless step over the whole payload.

// 0 (none), zstd, or a registered stage's id: what a frame header may list.
bool codec_id_known(uint8_t id);

class Pipeline {
 public:
  Pipeline() = default;  // "none"
  // Errors name the flag (`flag`) and what is allowed.
  static Result<Pipeline> parse(const std::string& spec, const std::string& flag = "--compress");
  // The decoder's view of a payload: descriptor bytes, checked against the frame's ids.
  static Result<Pipeline> read_descriptor(ByteReader& r, const std::vector<CodecId>& frame_ids);

  // For people (logs, --help, checkpoints' run identity): ratios and thresholds in %.17g,
  // so parse(spec()) gives the same pipeline back.
  std::string spec() const;
  std::vector<CodecId> codec_ids() const;
  bool lossless() const { return !sparsifier_.stage && !values_.stage; }
  bool sparsifies() const { return sparsifier_.stage != nullptr; }
  // The fraction a ratio sparsifier sends; 1 for any other pipeline.
  double ratio() const;
  int zstd_level() const { return zstd_level_; }
  // The same pipeline with another sparsification ratio (sparsity warm-up); unchanged when
  // its sparsifier has no ratio.
  Pipeline with_ratio(double ratio) const;
  // The lossless part only (zstd, if any): used for full-model frames.
  Pipeline lossless_part() const;

  void write_descriptor(ByteWriter& w) const;
  // The whole pipeline, parameters at full precision: how a task tells a client what to
  // encode with. read_params checks every field as parse does.
  void write_params(ByteWriter& w) const;
  [[nodiscard]] bool read_params(ByteReader& r);
  bool operator==(const Pipeline& o) const { return spec() == o.spec(); }
  bool operator!=(const Pipeline& o) const { return !(*this == o); }
  // Appends the encoding of x[0..n); `reconstructed` (n floats, may be null) receives what
  // the receiver will decode. Fails on NaN/Inf input and on a sparsifier's bad positions.
  Status encode_tensor(const float* x, size_t n, uint64_t seed, Bytes* out,
                       float* reconstructed) const;
  Status decode_tensor(ByteReader& r, size_t n, float* out) const;

 private:
  // A stage in its slot, with the codec id and task tag of its registration (0: none).
  template <class S>
  struct Placed {
    uint8_t id = 0;
    uint8_t tag = 0;
    std::shared_ptr<const S> stage;
  };
  Status place(const StageDef& def, std::shared_ptr<const Stage> stage);
  void encode_values(const float* v, size_t k, uint64_t seed, Bytes* out, float* rec) const;
  Status decode_values(ByteReader& r, size_t k, float* out) const;
  Status select(const float* x, size_t n, uint64_t seed, std::vector<uint32_t>* idx) const;
  void drop_zeros(uint64_t seed, std::vector<uint32_t>* idx, std::vector<float>* vals,
                  std::vector<float>* rec, Bytes* value_block) const;

  Placed<Sparsifier> sparsifier_;
  Placed<ValueStage> values_;  // none: float32 values
  int zstd_level_ = 0;         // 0: no zstd
};

}  // namespace xfed::compression
