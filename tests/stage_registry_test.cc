// The compression-stage registry: built-ins keep their wire ids and format version 2's task
// bytes, a program's own stages work in every part of a pipeline (parse, encode, decode,
// descriptor, task, frame header), and what breaks the registry's rules is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "compression/pipeline.h"
#include "compression/stage.h"
#include "core/parse.h"
#include "protocol/frame.h"

namespace xfed::compression {
namespace {

using StagePtr = std::shared_ptr<const Stage>;

// A value stage with a parameter: values as float32 times 2^E (exact), E in [-8, 8].
class Scaled final : public ValueStage {
 public:
  explicit Scaled(int e) : e_(e) {}
  std::string spec() const override { return "scaled:" + std::to_string(e_); }
  void write_descriptor(ByteWriter& w) const override { w.put_u8(static_cast<uint8_t>(e_ + 8)); }
  void write_params(ByteWriter& w) const override { write_descriptor(w); }
  void encode(const float* v, size_t k, uint64_t, Bytes* out, float* rec) const override {
    ByteWriter w(out);
    for (size_t i = 0; i < k; ++i) {
      w.put_f32(std::ldexp(v[i], e_));
      if (rec) rec[i] = v[i];
    }
  }
  Status decode(ByteReader& r, size_t k, float* out) const override {
    for (size_t i = 0; i < k; ++i) {
      if (!r.get_f32(&out[i])) return Status::corruption("scaled: truncated");
      out[i] = std::ldexp(out[i], -e_);
    }
    return Status::ok();
  }

 private:
  int e_;
};

StagePtr read_scaled(ByteReader& r) {
  uint8_t e;
  if (!r.get_u8(&e) || e > 16) return nullptr;
  return std::make_shared<Scaled>(e - 8);
}

StageDef scaled_def(const std::string& name, uint8_t id) {
  StageDef d;
  d.name = name;
  d.slot = StageSlot::kValues;
  d.id = id;
  d.usage = name + ":E";
  d.parse = [](const std::vector<std::string>& a) -> Result<StagePtr> {
    int64_t e;
    if (a.size() != 1 || !parse_int64(a[0], &e) || e < -8 || e > 8) return Status::usage("E in [-8, 8]");
    return StagePtr(std::make_shared<Scaled>(static_cast<int>(e)));
  };
  d.read_descriptor = read_scaled;
  d.read_params = read_scaled;
  return d;
}

// Registered once for the whole test binary (registrations are for the process).
const bool kScaledRegistered = static_cast<bool>(register_stage(scaled_def("scaled", 130)));

Bytes task_bytes(const std::string& spec) {
  Bytes b;
  ByteWriter w(&b);
  Pipeline::parse(spec).value_or_throw().write_params(w);
  return b;
}

Bytes expected_task(uint8_t sparsifier, double ratio, float threshold, uint8_t values, uint8_t bits,
                    uint64_t bucket, uint8_t zstd) {
  Bytes b;
  ByteWriter w(&b);
  w.put_u8(sparsifier);
  w.put_f64(ratio);
  w.put_f32(threshold);
  w.put_u8(values);
  w.put_u8(bits);
  w.put_varint(bucket);
  w.put_u8(zstd);
  return b;
}

TEST(StageRegistry, BuiltinsKeepTheirWireIdsAndTaskBytes) {
  const std::pair<const char*, CodecId> ids[] = {
      {"topk", CodecId::kTopK},   {"randk", CodecId::kRandK}, {"dgc", CodecId::kDgcTopK},
      {"threshold", CodecId::kThreshold}, {"nonzero", CodecId::kNonzero}, {"fp16", CodecId::kFp16},
      {"bf16", CodecId::kBf16},   {"qsgd", CodecId::kQsgd},   {"uniform", CodecId::kUniform},
      {"sign", CodecId::kSign}};
  for (const auto& [name, id] : ids) {
    const auto def = find_stage(name);
    ASSERT_TRUE(def) << name;
    EXPECT_EQ(def.value().id, static_cast<uint8_t>(id)) << name;
    ASSERT_TRUE(stage_by_id(static_cast<uint8_t>(id))) << name;
    EXPECT_EQ(stage_by_id(static_cast<uint8_t>(id))->name, name);
  }
  // Format version 2's TrainTask layout, byte for byte (written out by hand here).
  EXPECT_EQ(task_bytes("none"), expected_task(0, 1.0, 0.0f, 0, 32, 512, 0));
  EXPECT_EQ(task_bytes("topk:0.01,qsgd:4:256,zstd:3"), expected_task(3, 0.01, 0.0f, 3, 4, 256, 3));
  EXPECT_EQ(task_bytes("threshold:0.5,sign"), expected_task(5, 1.0, 0.5f, 5, 1, 512, 0));
  EXPECT_EQ(task_bytes("randk:0.25,uniform:3:16"), expected_task(4, 0.25, 0.0f, 4, 3, 16, 0));
  EXPECT_EQ(task_bytes("nonzero,fp16,zstd:1"), expected_task(11, 1.0, 0.0f, 1, 16, 512, 1));
  EXPECT_EQ(task_bytes("dgc:0.5,bf16"), expected_task(10, 0.5, 0.0f, 2, 16, 512, 0));
}

TEST(StageRegistry, WhatBreaksTheRulesIsRefusedWithTheReason) {
  ASSERT_TRUE(kScaledRegistered);
  const auto refused = [](StageDef d, const std::string& needle) {
    const auto st = register_stage(std::move(d));
    EXPECT_FALSE(st) << needle;
    EXPECT_NE(st.message().find(needle), std::string::npos) << st.message();
  };
  refused(scaled_def("scaled", 131), "the name is taken");
  refused(scaled_def("topk", 132), "the name is taken");
  refused(scaled_def("other", 130), "codec id 130 is taken by 'scaled'");
  refused(scaled_def("other", static_cast<uint8_t>(CodecId::kQsgd)), "codec id 6 is taken by 'qsgd'");
  auto tagged = scaled_def("other", 133);
  tagged.task_tag = 3;
  refused(tagged, "task tag 3 is taken by 'qsgd'");
  refused(scaled_def("other", 0), "codec id 0");
  refused(scaled_def("zstd", 134), "the pipeline's own");
  refused(scaled_def("Bad Name", 135), "Bad Name");
  auto no_reader = scaled_def("other", 136);
  no_reader.read_params = nullptr;
  refused(no_reader, "are all required");
  EXPECT_FALSE(stage_by_id(131)) << "a refused registration leaves nothing behind";
  const auto names = registered_stage_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "scaled"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "other"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "topk"), names.end()) << "built-ins are not the program's";
}

TEST(StageRegistry, AnUnknownStageListsTheRegisteredOnes) {
  ASSERT_TRUE(kScaledRegistered);
  const auto p = Pipeline::parse("topk:0.1,ternery", "--compress");
  ASSERT_FALSE(p);
  EXPECT_NE(p.message().find("--compress 'topk:0.1,ternery': no compression stage 'ternery'"), std::string::npos)
      << p.message();
  for (const char* usage : {"topk:R", "nonzero", "qsgd:B[:BUCKET]", "sign[:BUCKET]", "scaled:E", "zstd[:L]"})
    EXPECT_NE(p.message().find(usage), std::string::npos) << usage << " in " << p.message();
  const auto bad_arg = Pipeline::parse("scaled:9");
  ASSERT_FALSE(bad_arg);
  EXPECT_NE(bad_arg.message().find("bad stage 'scaled:9': E in [-8, 8]"), std::string::npos) << bad_arg.message();
  EXPECT_FALSE(Pipeline::parse("scaled:1,topk:0.1")) << "a value stage before the sparsifier";
  EXPECT_FALSE(Pipeline::parse("qsgd:4,scaled:1")) << "two value stages";
}

TEST(StageRegistry, AUserStageTravelsThroughEveryPartOfAPipeline) {
  ASSERT_TRUE(kScaledRegistered);
  const auto p = Pipeline::parse("topk:0.5,scaled:-3,zstd").value_or_throw();
  EXPECT_EQ(p.spec(), "topk:0.5,scaled:-3,zstd:3");
  EXPECT_EQ(p.codec_ids(), (std::vector<CodecId>{CodecId::kTopK, static_cast<CodecId>(130), CodecId::kZstd}));
  EXPECT_FALSE(p.lossless());

  // Tensor: the top half exactly, the rest zero.
  std::vector<float> x = {0.5f, -4.0f, 0.25f, 3.0f, -0.125f, 2.0f};
  Bytes b;
  std::vector<float> out(x.size());
  ASSERT_TRUE(p.encode_tensor(x.data(), x.size(), 1, &b, nullptr));
  ByteReader r(b);
  ASSERT_TRUE(p.decode_tensor(r, x.size(), out.data()));
  EXPECT_EQ(out, (std::vector<float>{0, -4.0f, 0, 3.0f, 0, 2.0f}));

  // Descriptor: written, read back against the frame's ids, and its parameter checked.
  Bytes d;
  ByteWriter dw(&d);
  p.write_descriptor(dw);
  ByteReader dr(d);
  const auto back = Pipeline::read_descriptor(dr, p.codec_ids());
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back.value().spec(), "topk:1,scaled:-3,zstd:3") << "decoding needs no ratio";
  d[3] = 17;  // e + 8 = 17: out of range
  ByteReader bad(d);
  const auto refused = Pipeline::read_descriptor(bad, p.codec_ids());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("bad scaled parameters"), std::string::npos) << refused.message();

  // Task: every parameter, at full precision; every prefix refused.
  Bytes t;
  ByteWriter tw(&t);
  p.write_params(tw);
  ByteReader tr(t);
  Pipeline from_task;
  ASSERT_TRUE(from_task.read_params(tr));
  EXPECT_EQ(from_task, p);
  for (size_t n = 0; n < t.size(); ++n) {
    ByteReader cut(t.data(), n);
    Pipeline q;
    EXPECT_FALSE(q.read_params(cut)) << "prefix " << n;
  }

  // A frame header may name the registered id, not an unregistered one.
  protocol::FrameHeader h{protocol::FrameKind::kUpdate, 1, 0, 0, 1, p.codec_ids()};
  EXPECT_TRUE(protocol::decode_frame(protocol::encode_frame(h, {})));
  h.codecs = {static_cast<CodecId>(137)};
  const auto unknown = protocol::decode_frame(protocol::encode_frame(h, {}));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.message().find("unknown codec id 137"), std::string::npos) << unknown.message();
}

// A sparsifier of the program's that returns positions index coding cannot take.
class Unsorted final : public Sparsifier {
 public:
  std::string spec() const override { return "unsorted"; }
  std::vector<uint32_t> select(const float*, size_t n, uint64_t) const override { return {1, 0, uint32_t(n)}; }
};

TEST(StageRegistry, ASparsifiersBadPositionsAreAnErrorNotACorruptPayload) {
  StageDef d;
  d.name = "unsorted";
  d.slot = StageSlot::kSparsifier;
  d.id = 140;
  d.usage = "unsorted";
  d.parse = [](const std::vector<std::string>&) -> Result<StagePtr> { return StagePtr(std::make_shared<Unsorted>()); };
  d.read_descriptor = d.read_params = [](ByteReader&) -> StagePtr { return std::make_shared<Unsorted>(); };
  ASSERT_TRUE(register_stage(d));
  const auto p = Pipeline::parse("unsorted").value_or_throw();
  std::vector<float> x(8, 1.0f);
  Bytes b;
  const auto st = p.encode_tensor(x.data(), x.size(), 1, &b, nullptr);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("sparsifier 'unsorted' chose positions that are not sorted, distinct and below 8"),
            std::string::npos) << st.message();

  // One registered in the wrong slot is refused when parsed.
  d.name = "misplaced";
  d.id = 141;
  d.slot = StageSlot::kValues;
  ASSERT_TRUE(register_stage(d));
  const auto misplaced = Pipeline::parse("misplaced");
  ASSERT_FALSE(misplaced);
  EXPECT_NE(misplaced.message().find("registered as a value stage but is not one"), std::string::npos)
      << misplaced.message();
}

}  // namespace
}  // namespace xfed::compression
