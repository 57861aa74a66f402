#include "compression/pipeline.h"

#include <algorithm>
#include <cmath>

#include "compression/index_coding.h"
#include "compression/quantize.h"
#include "core/parse.h"

namespace xfed::compression {
namespace {

constexpr uint8_t kFloat32TaskBits = 32;       // the task fields of "no value stage"
constexpr uint64_t kFloat32TaskBucket = 512;
constexpr int kDecodedZstdLevel = 3;           // decoding does not need the level

// "topk:0.01" → {"topk", {"0.01"}}.
std::pair<std::string, std::vector<std::string>> split_stage(const std::string& text) {
  auto parts = split_items(text, ':');
  return {parts.front(), {parts.begin() + 1, parts.end()}};
}

// zstd[:LEVEL]: the level, or 0 if the text is not a valid zstd stage.
int parse_zstd(const std::vector<std::string>& args) {
  if (args.empty()) return kDecodedZstdLevel;
  double d;
  if (args.size() != 1 || !parse_double(args[0], &d) || d != std::floor(d) || d < 1 || d > 22) return 0;
  return static_cast<int>(d);
}

// Sorted, distinct, below n: what index_coding takes (a user sparsifier may err).
bool valid_positions(const std::vector<uint32_t>& idx, size_t n) {
  for (size_t j = 0; j < idx.size(); ++j)
    if (idx[j] >= n || (j > 0 && idx[j] <= idx[j - 1])) return false;
  return true;
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

bool codec_id_known(uint8_t id) {
  return id == static_cast<uint8_t>(CodecId::kNone) || id == static_cast<uint8_t>(CodecId::kZstd) ||
         stage_by_id(id).has_value();
}

Status Pipeline::place(const StageDef& def, std::shared_ptr<const Stage> stage) {
  const uint8_t tag = def.task_tag.value_or(def.id);
  if (def.slot == StageSlot::kSparsifier) {
    auto s = std::dynamic_pointer_cast<const Sparsifier>(stage);
    if (!s) return Status::usage("stage '" + def.name + "' is registered as a sparsifier but is not one");
    sparsifier_ = {def.id, tag, std::move(s)};
  } else {
    auto v = std::dynamic_pointer_cast<const ValueStage>(stage);
    if (!v) return Status::usage("stage '" + def.name + "' is registered as a value stage but is not one");
    values_ = {def.id, tag, std::move(v)};
  }
  return Status::ok();
}

Result<Pipeline> Pipeline::parse(const std::string& spec, const std::string& flag) {
  Pipeline p;
  if (spec == "none") return p;
  const auto bad = [&](const std::string& why) {
    return Status::usage(flag + " '" + spec + "': " + why + " (stages, in order: " +
                         stage_usages(StageSlot::kSparsifier) + ", " + stage_usages(StageSlot::kValues) +
                         ", zstd[:L]; or none)");
  };
  int last_slot = -1;
  for (const auto& text : split_items(spec, ',')) {
    const auto [name, args] = split_stage(text);
    int slot = 2;
    if (name == "zstd") {
      p.zstd_level_ = parse_zstd(args);
      if (p.zstd_level_ == 0) return bad("bad stage '" + text + "': zstd's level is in [1, 22]");
    } else {
      auto found = find_stage(name);
      if (!found) return bad("no compression stage '" + name + "'");
      const StageDef& def = found.value();
      auto stage = def.parse(args);
      if (!stage) return bad("bad stage '" + text + "': " + stage.message());
      if (!stage.value()) return bad("bad stage '" + text + "': its parse gave no stage");
      if (auto st = p.place(def, stage.value()); !st) return bad(st.message());
      slot = def.slot == StageSlot::kSparsifier ? 0 : 1;
    }
    if (slot <= last_slot) return bad("stage '" + text + "' out of order or repeated");
    last_slot = slot;
  }
  if (last_slot < 0) return bad("empty pipeline");
  return p;
}

std::string Pipeline::spec() const {
  std::string s;
  const auto add = [&s](const std::string& part) { s += (s.empty() ? "" : ",") + part; };
  if (sparsifier_.stage) add(sparsifier_.stage->spec());
  if (values_.stage) add(values_.stage->spec());
  if (zstd_level_ > 0) add("zstd:" + std::to_string(zstd_level_));
  return s.empty() ? "none" : s;
}

std::vector<CodecId> Pipeline::codec_ids() const {
  std::vector<CodecId> ids;
  if (sparsifier_.stage) ids.push_back(static_cast<CodecId>(sparsifier_.id));
  if (values_.stage) ids.push_back(static_cast<CodecId>(values_.id));
  if (zstd_level_ > 0) ids.push_back(CodecId::kZstd);
  if (ids.empty()) ids.push_back(CodecId::kNone);
  return ids;
}

double Pipeline::ratio() const {
  return sparsifier_.stage ? sparsifier_.stage->ratio().value_or(1.0) : 1.0;
}

Pipeline Pipeline::with_ratio(double ratio) const {
  Pipeline p = *this;
  if (sparsifier_.stage && sparsifier_.stage->ratio()) p.sparsifier_.stage = sparsifier_.stage->with_ratio(ratio);
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
    if (sparsifier_.stage && static_cast<uint8_t>(id) == sparsifier_.id) sparsifier_.stage->write_descriptor(w);
    if (values_.stage && static_cast<uint8_t>(id) == values_.id) values_.stage->write_descriptor(w);
  }
}

Result<Pipeline> Pipeline::read_descriptor(ByteReader& r, const std::vector<CodecId>& frame_ids) {
  uint8_t count;
  if (!r.get_u8(&count) || count == 0 || count > 3) return Status::corruption("bad codec descriptor");
  Pipeline p;
  std::vector<CodecId> ids;
  for (int i = 0; i < count; ++i) {
    uint8_t raw;
    if (!r.get_u8(&raw)) return Status::corruption("bad codec descriptor");
    ids.push_back(static_cast<CodecId>(raw));
    if (raw == static_cast<uint8_t>(CodecId::kNone)) continue;
    if (raw == static_cast<uint8_t>(CodecId::kZstd)) {
      p.zstd_level_ = kDecodedZstdLevel;
      continue;
    }
    const auto def = stage_by_id(raw);
    if (!def) return Status::corruption("unknown codec id " + std::to_string(raw));
    auto stage = def->read_descriptor(r);
    if (!stage) return Status::corruption("bad " + def->name + " parameters in the codec descriptor");
    if (!p.place(def.value(), std::move(stage))) return Status::corruption("bad codec descriptor");
  }
  if (ids != frame_ids || p.codec_ids() != ids)
    return Status::corruption("codec descriptor does not match the frame's codec list");
  return p;
}

// Task layout (format version 2, kept): u8 sparsifier tag, its parameters (none: f64 1,
// f32 0); u8 value tag, its parameters (none: u8 32, varint 512); u8 zstd level.
void Pipeline::write_params(ByteWriter& w) const {
  w.put_u8(sparsifier_.tag);
  if (sparsifier_.stage) {
    sparsifier_.stage->write_params(w);
  } else {
    w.put_f64(1.0);
    w.put_f32(0.0f);
  }
  w.put_u8(values_.tag);
  if (values_.stage) {
    values_.stage->write_params(w);
  } else {
    w.put_u8(kFloat32TaskBits);
    w.put_varint(kFloat32TaskBucket);
  }
  w.put_u8(static_cast<uint8_t>(zstd_level_));
}

bool Pipeline::read_params(ByteReader& r) {
  Pipeline p;
  for (const auto slot : {StageSlot::kSparsifier, StageSlot::kValues}) {
    uint8_t tag;
    if (!r.get_u8(&tag)) return false;
    if (tag == 0) {
      double ratio;
      float threshold;
      uint8_t bits;
      uint64_t bucket;
      const bool ok = slot == StageSlot::kSparsifier
                          ? r.get_f64(&ratio) && r.get_f32(&threshold) && in_range(ratio, 0, 1, true) &&
                                in_range(threshold, 0, 3.0e38)
                          : r.get_u8(&bits) && r.get_varint(&bucket) && bits == kFloat32TaskBits &&
                                bucket >= 1 && bucket <= (1u << 24);
      if (!ok) return false;
      continue;
    }
    const auto def = stage_by_task_tag(slot, tag);
    if (!def) return false;
    auto stage = def->read_params(r);
    if (!stage || !p.place(def.value(), std::move(stage))) return false;
  }
  uint8_t zstd;
  if (!r.get_u8(&zstd) || zstd > 22) return false;
  p.zstd_level_ = zstd;
  *this = p;
  return true;
}

void Pipeline::encode_values(const float* v, size_t k, uint64_t seed, Bytes* out, float* rec) const {
  if (values_.stage) return values_.stage->encode(v, k, seed, out, rec);
  compression::encode_values(ValueParams{}, v, k, seed, out, rec);
}

Status Pipeline::decode_values(ByteReader& r, size_t k, float* out) const {
  if (values_.stage) return values_.stage->decode(r, k, out);
  return compression::decode_values(ValueParams{}, r, k, out);
}

Status Pipeline::select(const float* x, size_t n, uint64_t seed, std::vector<uint32_t>* idx) const {
  *idx = sparsifier_.stage->select(x, n, seed);
  if (!valid_positions(*idx, n))
    return Status::error("sparsifier '" + sparsifier_.stage->spec() +
                            "' chose positions that are not sorted, distinct and below " + std::to_string(n));
  return Status::ok();
}

Status Pipeline::encode_tensor(const float* x, size_t n, uint64_t seed, Bytes* out,
                               float* recon) const {
  if (const size_t bad = first_non_finite(x, n); bad < n)
    return Status::corruption("value " + std::to_string(bad) + " is " +
                         (std::isnan(x[bad]) ? "NaN" : "infinite") + "; refusing to encode");
  ByteWriter w(out);
  if (!sparsifies()) {
    w.put_varint(0);
    encode_values(x, n, seed, out, recon);
    return Status::ok();
  }
  std::vector<uint32_t> idx;
  if (auto st = select(x, n, seed, &idx); !st) return st;
  std::vector<float> vals(idx.size()), rec(idx.size());
  for (size_t j = 0; j < idx.size(); ++j) vals[j] = x[idx[j]];
  Bytes value_block;
  encode_values(vals.data(), vals.size(), seed, &value_block, rec.data());
  if (sparsifier_.stage->drops_zeros()) drop_zeros(seed, &idx, &vals, &rec, &value_block);
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
    encode_values(vals->data(), kept, seed, value_block, rec->data());
  }
}

Status Pipeline::decode_tensor(ByteReader& r, size_t n, float* out) const {
  uint64_t k_plus;
  if (!r.get_varint(&k_plus)) return Status::corruption("truncated tensor header");
  if (k_plus == 0) return decode_values(r, n, out);
  const uint64_t k = k_plus - 1;
  if (!sparsifies() || k > n) return Status::corruption("bad sparse tensor header");
  std::vector<uint32_t> idx;
  if (auto st = decode_indices(r, k, n, &idx); !st) return st;
  std::vector<float> vals(k);
  if (auto st = decode_values(r, k, vals.data()); !st) return st;
  std::fill(out, out + n, 0.0f);
  for (size_t j = 0; j < k; ++j) out[idx[j]] = vals[j];
  return Status::ok();
}

}  // namespace xfed::compression
