// The built-in compression stages, registered through register_stage like a user's:
//   sparsifiers  topk:R  randk:R  dgc:R  threshold:T  nonzero      (sparsify.h)
//   values       fp16  bf16  qsgd:B[:BUCKET]  uniform:B[:BUCKET]  sign[:BUCKET]  (quantize.h)
// Their task parameters keep format version 2's layout byte for byte: a sparsifier writes
// f64 ratio and f32 threshold (1 and 0 where unused), a value stage u8 bits and varint
// bucket, and qsgd, uniform and sign keep the task tags 3, 4, 5 they had then.
#include <cmath>

#include "compression/quantize.h"
#include "compression/sparsify.h"
#include "compression/stage.h"
#include "core/parse.h"

namespace xfed::compression {
namespace {

constexpr uint32_t kMaxBucket = 1u << 24;
constexpr uint32_t kDefaultBucket = 512;
constexpr double kMaxThreshold = 3.0e38;  // a threshold is a finite float32

using StagePtr = std::shared_ptr<const Stage>;

bool whole_number(const std::string& s, long long lo, long long hi, long long* v) {
  double d;
  if (!parse_double(s, &d) || d != std::floor(d) || d < lo || d > hi) return false;
  *v = static_cast<long long>(d);
  return true;
}

StageDef stage_def(std::string name, StageSlot slot, CodecId id, std::string usage,
                   std::optional<uint8_t> task_tag = std::nullopt) {
  StageDef d;
  d.name = std::move(name);
  d.slot = slot;
  d.id = static_cast<uint8_t>(id);
  d.task_tag = task_tag;
  d.usage = std::move(usage);
  return d;
}

// ---- sparsifiers ----

using SelectK = std::vector<uint32_t> (*)(const float* x, size_t n, size_t k, uint64_t seed);

// Parameters as tasks carry them (format version 2): f64 ratio, f32 threshold.
void put_sparsifier_params(ByteWriter& w, double ratio, float threshold) {
  w.put_f64(ratio);
  w.put_f32(threshold);
}
bool get_sparsifier_params(ByteReader& r, double* ratio, float* threshold) {
  return r.get_f64(ratio) && r.get_f32(threshold) && in_range(*ratio, 0, 1, true) &&
         in_range(*threshold, 0, kMaxThreshold);
}

// topk, randk, dgc: send round(R * n) entries chosen by `select_`.
class RatioSparsifier final : public Sparsifier {
 public:
  RatioSparsifier(const char* name, SelectK select, double ratio)
      : name_(name), select_(select), ratio_(ratio) {}
  std::string spec() const override { return std::string(name_) + ":" + exact_number(ratio_); }
  void write_params(ByteWriter& w) const override { put_sparsifier_params(w, ratio_, 0.0f); }
  std::vector<uint32_t> select(const float* x, size_t n, uint64_t seed) const override {
    return select_(x, n, k_for_ratio(n, ratio_), seed);
  }
  std::optional<double> ratio() const override { return ratio_; }
  std::shared_ptr<const Sparsifier> with_ratio(double r) const override {
    return std::make_shared<RatioSparsifier>(name_, select_, r);
  }

 private:
  const char* name_;
  SelectK select_;
  double ratio_;
};

class ThresholdSparsifier final : public Sparsifier {
 public:
  explicit ThresholdSparsifier(float t) : t_(t) {}
  std::string spec() const override { return "threshold:" + exact_number(static_cast<double>(t_)); }
  void write_params(ByteWriter& w) const override { put_sparsifier_params(w, 1.0, t_); }
  std::vector<uint32_t> select(const float* x, size_t n, uint64_t) const override {
    return threshold_indices(x, n, t_);
  }

 private:
  float t_;
};

// Every entry that is not zero, less those the value stage rounds to zero.
class NonzeroSparsifier final : public Sparsifier {
 public:
  std::string spec() const override { return "nonzero"; }
  void write_params(ByteWriter& w) const override { put_sparsifier_params(w, 1.0, 0.0f); }
  std::vector<uint32_t> select(const float* x, size_t n, uint64_t) const override {
    return nonzero_indices(x, n);
  }
  bool drops_zeros() const override { return true; }
};

void register_ratio_sparsifier(const char* name, CodecId id, SelectK select) {
  auto d = stage_def(name, StageSlot::kSparsifier, id, std::string(name) + ":R");
  d.parse = [name, select](const std::vector<std::string>& a) -> Result<StagePtr> {
    double ratio;
    if (a.size() != 1 || !parse_double(a[0], &ratio) || !in_range(ratio, 0, 1, true))
      return Status::usage("R is the fraction sent, in (0, 1]");
    return StagePtr(std::make_shared<RatioSparsifier>(name, select, ratio));
  };
  d.read_descriptor = [name, select](ByteReader&) -> StagePtr {
    return std::make_shared<RatioSparsifier>(name, select, 1.0);
  };
  d.read_params = [name, select](ByteReader& r) -> StagePtr {
    double ratio;
    float threshold;
    if (!get_sparsifier_params(r, &ratio, &threshold)) return nullptr;
    return std::make_shared<RatioSparsifier>(name, select, ratio);
  };
  (void)register_stage(std::move(d));
}

void register_threshold() {
  auto d = stage_def("threshold", StageSlot::kSparsifier, CodecId::kThreshold, "threshold:T");
  d.parse = [](const std::vector<std::string>& a) -> Result<StagePtr> {
    double t;
    if (a.size() != 1 || !parse_double(a[0], &t) || !in_range(t, 0, kMaxThreshold))
      return Status::usage("T is a magnitude in [0, 3e38]");
    return StagePtr(std::make_shared<ThresholdSparsifier>(static_cast<float>(t)));
  };
  d.read_descriptor = [](ByteReader&) -> StagePtr { return std::make_shared<ThresholdSparsifier>(0.0f); };
  d.read_params = [](ByteReader& r) -> StagePtr {
    double ratio;
    float t;
    if (!get_sparsifier_params(r, &ratio, &t)) return nullptr;
    return std::make_shared<ThresholdSparsifier>(t);
  };
  (void)register_stage(std::move(d));
}

void register_nonzero() {
  auto d = stage_def("nonzero", StageSlot::kSparsifier, CodecId::kNonzero, "nonzero");
  d.parse = [](const std::vector<std::string>& a) -> Result<StagePtr> {
    if (!a.empty()) return Status::usage("nonzero takes no argument");
    return StagePtr(std::make_shared<NonzeroSparsifier>());
  };
  d.read_descriptor = [](ByteReader&) -> StagePtr { return std::make_shared<NonzeroSparsifier>(); };
  d.read_params = [](ByteReader& r) -> StagePtr {
    double ratio;
    float t;
    if (!get_sparsifier_params(r, &ratio, &t)) return nullptr;
    return std::make_shared<NonzeroSparsifier>();
  };
  (void)register_stage(std::move(d));
}

// ---- value stages ----

// fp16, bf16, qsgd, uniform, sign: quantize.h's codecs with their parameters.
class QuantizedValues final : public ValueStage {
 public:
  QuantizedValues(const char* name, ValueParams p) : name_(name), p_(p) {}
  std::string spec() const override {
    std::string s = name_;
    if (has_bits()) s += ":" + std::to_string(p_.bits);
    if (has_bucket() && p_.bucket != kDefaultBucket) s += ":" + std::to_string(p_.bucket);
    return s;
  }
  void write_descriptor(ByteWriter& w) const override {
    if (has_bits()) w.put_u8(static_cast<uint8_t>(p_.bits));
    if (has_bucket()) w.put_varint(p_.bucket);
  }
  void write_params(ByteWriter& w) const override {
    w.put_u8(static_cast<uint8_t>(p_.bits));
    w.put_varint(p_.bucket);
  }
  void encode(const float* v, size_t k, uint64_t seed, Bytes* out, float* rec) const override {
    encode_values(p_, v, k, seed, out, rec);
  }
  Status decode(ByteReader& r, size_t k, float* out) const override {
    return decode_values(p_, r, k, out);
  }

 private:
  bool has_bits() const { return p_.codec == ValueCodec::kQsgd || p_.codec == ValueCodec::kUniform; }
  bool has_bucket() const { return has_bits() || p_.codec == ValueCodec::kSign; }
  const char* name_;
  ValueParams p_;
};

// One value codec's registration: its bit widths [lo_bits, hi_bits] (one value: fixed and
// not written in specs or descriptors) and whether it has a bucket size.
struct ValueKind {
  const char* name;
  CodecId id;
  uint8_t task_tag;
  ValueCodec codec;
  int lo_bits, hi_bits;
  bool bucket;
};

bool bits_ok(const ValueKind& k, long long bits) { return bits >= k.lo_bits && bits <= k.hi_bits; }
bool bucket_ok(uint64_t b) { return b >= 1 && b <= kMaxBucket; }

std::string value_usage(const ValueKind& k) {
  std::string u = k.name;
  if (k.lo_bits != k.hi_bits) u += ":B";
  if (k.bucket) u += "[:BUCKET]";
  return u;
}

Result<StagePtr> parse_values(const ValueKind& k, const std::vector<std::string>& a) {
  const bool sized = k.lo_bits != k.hi_bits;
  const size_t max_args = (sized ? 1 : 0) + (k.bucket ? 1 : 0);
  const auto bad = [&] {
    return Status::usage(value_usage(k) + ": B in [" + std::to_string(k.lo_bits) + ", " +
                         std::to_string(k.hi_bits) + "], BUCKET in [1, 2^24]");
  };
  if (a.size() > max_args || a.size() < (sized ? 1u : 0u)) return bad();
  ValueParams p{k.codec, k.lo_bits, kDefaultBucket};
  long long v;
  if (sized) {
    if (!whole_number(a[0], k.lo_bits, k.hi_bits, &v)) return bad();
    p.bits = static_cast<int>(v);
  }
  if (a.size() > (sized ? 1u : 0u)) {
    if (!whole_number(a.back(), 1, kMaxBucket, &v)) return bad();
    p.bucket = static_cast<uint32_t>(v);
  }
  return StagePtr(std::make_shared<QuantizedValues>(k.name, p));
}

StagePtr read_value_descriptor(const ValueKind& k, ByteReader& r) {
  ValueParams p{k.codec, k.lo_bits, kDefaultBucket};
  uint8_t bits;
  uint64_t bucket;
  if (k.lo_bits != k.hi_bits) {
    if (!r.get_u8(&bits) || !bits_ok(k, bits)) return nullptr;
    p.bits = bits;
  }
  if (k.bucket) {
    if (!r.get_varint(&bucket) || !bucket_ok(bucket)) return nullptr;
    p.bucket = static_cast<uint32_t>(bucket);
  }
  return std::make_shared<QuantizedValues>(k.name, p);
}

StagePtr read_value_params(const ValueKind& k, ByteReader& r) {
  uint8_t bits;
  uint64_t bucket;
  if (!r.get_u8(&bits) || !bits_ok(k, bits) || !r.get_varint(&bucket) || !bucket_ok(bucket)) return nullptr;
  ValueParams p{k.codec, bits, k.bucket ? static_cast<uint32_t>(bucket) : kDefaultBucket};
  return std::make_shared<QuantizedValues>(k.name, p);
}

void register_values(const ValueKind& k) {
  auto d = stage_def(k.name, StageSlot::kValues, k.id, value_usage(k), k.task_tag);
  d.parse = [k](const std::vector<std::string>& a) { return parse_values(k, a); };
  d.read_descriptor = [k](ByteReader& r) { return read_value_descriptor(k, r); };
  d.read_params = [k](ByteReader& r) { return read_value_params(k, r); };
  (void)register_stage(std::move(d));
}

}  // namespace

void register_builtin_stages() {
  register_ratio_sparsifier("topk", CodecId::kTopK,
                            [](const float* x, size_t n, size_t k, uint64_t) { return topk_indices(x, n, k); });
  register_ratio_sparsifier("randk", CodecId::kRandK,
                            [](const float*, size_t n, size_t k, uint64_t seed) { return randk_indices(n, k, seed); });
  register_ratio_sparsifier("dgc", CodecId::kDgcTopK, dgc_topk_indices);
  register_threshold();
  register_nonzero();
  // Task tags: the value codec numbers of format version 2.
  register_values({"fp16", CodecId::kFp16, 1, ValueCodec::kFp16, 16, 16, false});
  register_values({"bf16", CodecId::kBf16, 2, ValueCodec::kBf16, 16, 16, false});
  register_values({"qsgd", CodecId::kQsgd, 3, ValueCodec::kQsgd, 2, 16, true});
  register_values({"uniform", CodecId::kUniform, 4, ValueCodec::kUniform, 1, 16, true});
  register_values({"sign", CodecId::kSign, 5, ValueCodec::kSign, 1, 1, true});
}

}  // namespace xfed::compression
