#include "compression/pipeline.h"

#include <algorithm>
#include <cmath>

#include "compression/index_coding.h"
#include "compression/sparsify.h"
#include "core/parse.h"

namespace xfed::compression {
namespace {

constexpr uint32_t kMaxBucket = 1u << 24;

struct StageText {
  std::string name;
  std::vector<std::string> args;
};

StageText split_stage(const std::string& text) {
  auto parts = split_items(text, ':');
  StageText s{parts.front(), {parts.begin() + 1, parts.end()}};
  return s;
}

bool to_int(const std::string& s, long long lo, long long hi, long long* v) {
  double d;
  if (!parse_double(s, &d) || d != std::floor(d) || d < lo || d > hi) return false;
  *v = static_cast<long long>(d);
  return true;
}

const char* sparsifier_name(CodecId id) {
  switch (id) {
    case CodecId::kTopK: return "topk";
    case CodecId::kRandK: return "randk";
    case CodecId::kDgcTopK: return "dgc";
    case CodecId::kThreshold: return "threshold";
    default: return "";
  }
}

CodecId value_id(ValueCodec c) {
  switch (c) {
    case ValueCodec::kFp16: return CodecId::kFp16;
    case ValueCodec::kBf16: return CodecId::kBf16;
    case ValueCodec::kQsgd: return CodecId::kQsgd;
    case ValueCodec::kUniform: return CodecId::kUniform;
    case ValueCodec::kSign: return CodecId::kSign;
    case ValueCodec::kFloat32: return CodecId::kNone;
  }
  return CodecId::kNone;
}

// The bit widths each value codec can have (as parse sets them).
bool bits_valid(ValueCodec codec, int bits) {
  switch (codec) {
    case ValueCodec::kFloat32: return bits == 32;
    case ValueCodec::kFp16: case ValueCodec::kBf16: return bits == 16;
    case ValueCodec::kSign: return bits == 1;
    case ValueCodec::kQsgd: return bits >= 2 && bits <= 16;
    case ValueCodec::kUniform: return bits >= 1 && bits <= 16;
  }
  return false;
}

// Parses one stage into p; returns the stage's slot (0 sparsifier, 1 values, 2 zstd) or -1.
int parse_stage(const StageText& s, CodecId* sparsifier, double* ratio, float* threshold,
                ValueParams* values, int* zstd) {
  const size_t nargs = s.args.size();
  double d;
  long long i;
  if (s.name == "topk" || s.name == "randk" || s.name == "dgc") {
    if (nargs != 1 || !parse_double(s.args[0], &d) || d <= 0 || d > 1) return -1;
    *sparsifier = s.name == "topk" ? CodecId::kTopK : s.name == "randk" ? CodecId::kRandK : CodecId::kDgcTopK;
    *ratio = d;
    return 0;
  }
  if (s.name == "nonzero") {
    if (nargs != 0) return -1;
    *sparsifier = CodecId::kNonzero;
    return 0;
  }
  if (s.name == "threshold") {
    // float32 is what values are compared in: a threshold must be a finite float32.
    if (nargs != 1 || !parse_double(s.args[0], &d) || !in_range(d, 0, 3.0e38)) return -1;
    *sparsifier = CodecId::kThreshold;
    *threshold = static_cast<float>(d);
    return 0;
  }
  if (s.name == "fp16" || s.name == "bf16") {
    if (nargs != 0) return -1;
    values->codec = s.name == "fp16" ? ValueCodec::kFp16 : ValueCodec::kBf16;
    values->bits = 16;
    return 1;
  }
  if (s.name == "qsgd" || s.name == "uniform" || s.name == "sign") {
    const bool sign = s.name == "sign";
    const size_t bucket_arg = sign ? 0 : 1;
    if (nargs > bucket_arg + 1 || (!sign && nargs < 1)) return -1;
    values->codec = sign ? ValueCodec::kSign : s.name == "qsgd" ? ValueCodec::kQsgd : ValueCodec::kUniform;
    values->bits = 1;
    if (!sign) {
      if (!to_int(s.args[0], s.name == "qsgd" ? 2 : 1, 16, &i)) return -1;
      values->bits = static_cast<int>(i);
    }
    if (nargs > bucket_arg) {
      if (!to_int(s.args[bucket_arg], 1, kMaxBucket, &i)) return -1;
      values->bucket = static_cast<uint32_t>(i);
    }
    return 1;
  }
  if (s.name == "zstd") {
    *zstd = 3;
    if (nargs > 1 || (nargs == 1 && !to_int(s.args[0], 1, 22, &i))) return -1;
    if (nargs == 1) *zstd = static_cast<int>(i);
    return 2;
  }
  return -1;
}

// Index of the first NaN/Inf, or n. Scans blocks branch-free (vectorizes) and only looks
// for the exact position inside a block that has one.
size_t first_non_finite(const float* x, size_t n) {
  constexpr size_t kBlock = 4096;
  const auto* u = reinterpret_cast<const uint32_t*>(x);
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t end = std::min(n, start + kBlock);
    uint32_t bad = 0;
    for (size_t i = start; i < end; ++i) bad |= (u[i] & 0x7f800000u) == 0x7f800000u;
    if (bad)
      for (size_t i = start; i < end; ++i)
        if (!std::isfinite(x[i])) return i;
  }
  return n;
}

}  // namespace

Result<Pipeline> Pipeline::parse(const std::string& spec, const std::string& flag) {
  Pipeline p;
  if (spec == "none") return p;
  const auto bad = [&](const std::string& why) {
    return Status::usage(flag + " '" + spec + "': " + why +
                         " (stages, in order: topk:R|randk:R|dgc:R|threshold:T|nonzero, "
                         "fp16|bf16|qsgd:B[:BUCKET]|uniform:B[:BUCKET]|sign[:BUCKET], zstd[:L]; or none)");
  };
  int last_slot = -1;
  for (const auto& stage : split_items(spec, ',')) {
    const int slot = parse_stage(split_stage(stage), &p.sparsifier_, &p.ratio_, &p.threshold_,
                                 &p.values_, &p.zstd_level_);
    if (slot < 0) return bad("bad stage '" + stage + "'");
    if (slot <= last_slot) return bad("stage '" + stage + "' out of order or repeated");
    last_slot = slot;
  }
  if (last_slot < 0) return bad("empty pipeline");
  return p;
}

std::string Pipeline::spec() const {
  std::vector<std::string> parts;
  if (sparsifier_ == CodecId::kThreshold)
    parts.push_back("threshold:" + exact_number(static_cast<double>(threshold_)));
  else if (sparsifier_ == CodecId::kNonzero)
    parts.push_back("nonzero");
  else if (sparsifies())
    parts.push_back(std::string(sparsifier_name(sparsifier_)) + ":" + exact_number(ratio_));
  const auto& v = values_;
  const std::string bucket = v.bucket != 512 ? ":" + std::to_string(v.bucket) : "";
  switch (v.codec) {
    case ValueCodec::kFp16: parts.push_back("fp16"); break;
    case ValueCodec::kBf16: parts.push_back("bf16"); break;
    case ValueCodec::kQsgd: parts.push_back("qsgd:" + std::to_string(v.bits) + bucket); break;
    case ValueCodec::kUniform: parts.push_back("uniform:" + std::to_string(v.bits) + bucket); break;
    case ValueCodec::kSign: parts.push_back("sign" + bucket); break;
    case ValueCodec::kFloat32: break;
  }
  if (zstd_level_ > 0) parts.push_back("zstd:" + std::to_string(zstd_level_));
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : ",") + p;
  return s.empty() ? "none" : s;
}

std::vector<CodecId> Pipeline::codec_ids() const {
  std::vector<CodecId> ids;
  if (sparsifies()) ids.push_back(sparsifier_);
  if (values_.codec != ValueCodec::kFloat32) ids.push_back(value_id(values_.codec));
  if (zstd_level_ > 0) ids.push_back(CodecId::kZstd);
  if (ids.empty()) ids.push_back(CodecId::kNone);
  return ids;
}

Pipeline Pipeline::with_ratio(double ratio) const {
  Pipeline p = *this;
  if (sparsifier_ != CodecId::kThreshold && sparsifier_ != CodecId::kNonzero) p.ratio_ = ratio;
  return p;
}

Pipeline Pipeline::lossless_part() const {
  Pipeline p;
  p.zstd_level_ = zstd_level_;
  return p;
}

void Pipeline::write_descriptor(ByteWriter& w) const {
  const auto ids = codec_ids();
  w.put_u8(static_cast<uint8_t>(ids.size()));
  for (auto id : ids) {
    w.put_u8(static_cast<uint8_t>(id));
    if (id == CodecId::kQsgd || id == CodecId::kUniform) w.put_u8(static_cast<uint8_t>(values_.bits));
    if (id == CodecId::kQsgd || id == CodecId::kUniform || id == CodecId::kSign)
      w.put_varint(values_.bucket);
  }
}

bool Pipeline::operator==(const Pipeline& o) const {
  return sparsifier_ == o.sparsifier_ && ratio_ == o.ratio_ && threshold_ == o.threshold_ &&
         values_.codec == o.values_.codec && values_.bits == o.values_.bits &&
         values_.bucket == o.values_.bucket && zstd_level_ == o.zstd_level_;
}

void Pipeline::write_params(ByteWriter& w) const {
  w.put_u8(static_cast<uint8_t>(sparsifier_));
  w.put_f64(ratio_);
  w.put_f32(threshold_);
  w.put_u8(static_cast<uint8_t>(values_.codec));
  w.put_u8(static_cast<uint8_t>(values_.bits));
  w.put_varint(values_.bucket);
  w.put_u8(static_cast<uint8_t>(zstd_level_));
}

bool Pipeline::read_params(ByteReader& r) {
  uint8_t sparsifier, codec, bits, zstd;
  uint64_t bucket;
  Pipeline p;
  if (!r.get_u8(&sparsifier) || !r.get_f64(&p.ratio_) || !r.get_f32(&p.threshold_) || !r.get_u8(&codec) ||
      !r.get_u8(&bits) || !r.get_varint(&bucket) || !r.get_u8(&zstd))
    return false;
  const auto s = static_cast<CodecId>(sparsifier);
  const bool sparsifier_ok = s == CodecId::kNone || s == CodecId::kTopK || s == CodecId::kRandK ||
                             s == CodecId::kDgcTopK || s == CodecId::kThreshold || s == CodecId::kNonzero;
  if (!sparsifier_ok || !in_range(p.ratio_, 0, 1, true) || !in_range(p.threshold_, 0, 3.0e38) ||
      codec > static_cast<uint8_t>(ValueCodec::kSign) || bucket == 0 || bucket > kMaxBucket || zstd > 22)
    return false;
  p.sparsifier_ = s;
  p.values_.codec = static_cast<ValueCodec>(codec);
  p.values_.bits = bits;
  p.values_.bucket = static_cast<uint32_t>(bucket);
  p.zstd_level_ = zstd;
  if (!bits_valid(p.values_.codec, bits)) return false;
  *this = p;
  return true;
}

Result<Pipeline> Pipeline::read_descriptor(ByteReader& r, const std::vector<CodecId>& frame_ids) {
  uint8_t count;
  if (!r.get_u8(&count) || count == 0 || count > 3) return Status::corruption("bad codec descriptor");
  Pipeline p;
  std::vector<CodecId> ids;
  for (int i = 0; i < count; ++i) {
    uint8_t raw, bits = 0;
    uint64_t bucket = 512;
    if (!r.get_u8(&raw) || raw > kMaxCodecId) return Status::corruption("bad codec descriptor");
    const auto id = static_cast<CodecId>(raw);
    ids.push_back(id);
    if ((id == CodecId::kQsgd || id == CodecId::kUniform) &&
        (!r.get_u8(&bits) ||
         !bits_valid(id == CodecId::kQsgd ? ValueCodec::kQsgd : ValueCodec::kUniform, bits)))
      return Status::corruption("bad quantizer bit width");
    if ((id == CodecId::kQsgd || id == CodecId::kUniform || id == CodecId::kSign) &&
        (!r.get_varint(&bucket) || bucket == 0 || bucket > kMaxBucket))
      return Status::corruption("bad quantizer bucket size");
    switch (id) {
      case CodecId::kTopK: case CodecId::kRandK: case CodecId::kDgcTopK: case CodecId::kThreshold:
      case CodecId::kNonzero:
        p.sparsifier_ = id; break;
      case CodecId::kFp16: p.values_ = {ValueCodec::kFp16, 16, 512}; break;
      case CodecId::kBf16: p.values_ = {ValueCodec::kBf16, 16, 512}; break;
      case CodecId::kQsgd: p.values_ = {ValueCodec::kQsgd, bits, static_cast<uint32_t>(bucket)}; break;
      case CodecId::kUniform: p.values_ = {ValueCodec::kUniform, bits, static_cast<uint32_t>(bucket)}; break;
      case CodecId::kSign: p.values_ = {ValueCodec::kSign, 1, static_cast<uint32_t>(bucket)}; break;
      case CodecId::kZstd: p.zstd_level_ = 3; break;
      case CodecId::kNone: break;
    }
  }
  if (ids != frame_ids || p.codec_ids() != ids)
    return Status::corruption("codec descriptor does not match the frame's codec list");
  return p;
}

std::vector<uint32_t> Pipeline::select(const float* x, size_t n, uint64_t seed) const {
  switch (sparsifier_) {
    case CodecId::kTopK: return topk_indices(x, n, k_for_ratio(n, ratio_));
    case CodecId::kDgcTopK: return dgc_topk_indices(x, n, k_for_ratio(n, ratio_), seed);
    case CodecId::kRandK: return randk_indices(n, k_for_ratio(n, ratio_), seed);
    case CodecId::kThreshold: return threshold_indices(x, n, threshold_);
    case CodecId::kNonzero: return nonzero_indices(x, n);
    default: return {};
  }
}

Status Pipeline::encode_tensor(const float* x, size_t n, uint64_t seed, Bytes* out,
                               float* recon) const {
  if (const size_t bad = first_non_finite(x, n); bad < n)
    return Status::corruption("value " + std::to_string(bad) + " is " +
                         (std::isnan(x[bad]) ? "NaN" : "infinite") + "; refusing to encode");
  ByteWriter w(out);
  if (!sparsifies()) {
    w.put_varint(0);
    encode_values(values_, x, n, seed, out, recon);
    return Status::ok();
  }
  auto idx = select(x, n, seed);
  std::vector<float> vals(idx.size()), rec(idx.size());
  for (size_t j = 0; j < idx.size(); ++j) vals[j] = x[idx[j]];
  Bytes value_block;
  encode_values(values_, vals.data(), vals.size(), seed, &value_block, rec.data());
  if (sparsifier_ == CodecId::kNonzero) drop_zeros(seed, &idx, &vals, &rec, &value_block);
  w.put_varint(idx.size() + 1);
  encode_indices(idx, n, out);
  out->insert(out->end(), value_block.begin(), value_block.end());
  if (recon) {
    std::fill(recon, recon + n, 0.0f);
    for (size_t j = 0; j < idx.size(); ++j) recon[idx[j]] = rec[j];
  }
  return Status::ok();
}

// Entries a quantizer rounded to zero cost their index and decode to zero anyway: leave
// them out and quantize the rest again (bucket scales may move, so a few passes at most;
// what is left out stays in the sender's residual).
void Pipeline::drop_zeros(uint64_t seed, std::vector<uint32_t>* idx, std::vector<float>* vals,
                          std::vector<float>* rec, Bytes* value_block) const {
  constexpr int kMaxPasses = 4;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    size_t kept = 0;
    for (size_t j = 0; j < idx->size(); ++j) {
      if ((*rec)[j] == 0.0f) continue;
      (*idx)[kept] = (*idx)[j];
      (*vals)[kept++] = (*vals)[j];
    }
    if (kept == idx->size()) return;
    idx->resize(kept);
    vals->resize(kept);
    rec->assign(kept, 0.0f);
    value_block->clear();
    encode_values(values_, vals->data(), kept, seed, value_block, rec->data());
  }
}

Status Pipeline::decode_tensor(ByteReader& r, size_t n, float* out) const {
  uint64_t k_plus;
  if (!r.get_varint(&k_plus)) return Status::corruption("truncated tensor header");
  if (k_plus == 0) return decode_values(values_, r, n, out);
  const uint64_t k = k_plus - 1;
  if (!sparsifies() || k > n) return Status::corruption("bad sparse tensor header");
  std::vector<uint32_t> idx;
  if (auto st = decode_indices(r, k, n, &idx); !st) return st;
  std::vector<float> vals(k);
  if (auto st = decode_values(values_, r, k, vals.data()); !st) return st;
  std::fill(out, out + n, 0.0f);
  for (size_t j = 0; j < k; ++j) out[idx[j]] = vals[j];
  return Status::ok();
}

}  // namespace xfed::compression
