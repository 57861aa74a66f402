// Your own compression stage: ternary values (TernGrad, Wen et al. 2017). Each value is sent
// as -s, 0 or +s, s = max |v| of the tensor, rounded stochastically so that what is decoded
// is v on average: 2 bits a value and one float a tensor. Registered as `ternary` with
// codec id 200, used like a built-in value stage, on every transport:
//   build/bin/example_ternary_stage simulate --compress topk:0.05,ternary,zstd --rounds 5
//   mpirun -np 3 build/bin/example_ternary_stage mpi --compress ternary,zstd --rounds 5
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <utility>

#include "xfed/cli.h"
#include "xfed/compression.h"

namespace {

using StagePtr = std::shared_ptr<const xfed::Stage>;
enum Code : uint8_t { kZero = 0, kPlus = 1, kMinus = 2 };  // 3: never written

class Ternary final : public xfed::ValueStage {
 public:
  std::string spec() const override { return "ternary"; }
  void encode(const float* v, size_t k, uint64_t seed, xfed::Bytes* out, float* rec) const override {
    float s = 0;
    for (size_t i = 0; i < k; ++i) s = std::max(s, std::fabs(v[i]));
    xfed::ByteWriter w(out);
    w.put_f32(s);
    uint8_t packed = 0;
    for (size_t i = 0; i < k; ++i) {
      const double u = static_cast<double>(xfed::splitmix64(seed + i) >> 11) * 0x1.0p-53;  // [0, 1)
      const Code code = s > 0 && u < std::fabs(v[i]) / s ? (v[i] < 0 ? kMinus : kPlus) : kZero;
      packed |= static_cast<uint8_t>(code << (2 * (i % 4)));
      if (i % 4 == 3 || i + 1 == k) w.put_u8(std::exchange(packed, 0));
      if (rec) rec[i] = value(code, s);
    }
  }
  xfed::Status decode(xfed::ByteReader& r, size_t k, float* out) const override {
    float s;
    if (!r.get_f32(&s) || !std::isfinite(s) || s < 0) return xfed::Status::corruption("ternary: bad scale");
    const uint8_t* packed = r.take((k + 3) / 4);
    if (!packed) return xfed::Status::corruption("ternary: truncated codes");
    for (size_t i = 0; i < k; ++i) {
      const auto code = static_cast<uint8_t>((packed[i / 4] >> (2 * (i % 4))) & 3);
      if (code > kMinus) return xfed::Status::corruption("ternary: bad code");
      out[i] = value(static_cast<Code>(code), s);
    }
    return xfed::Status::ok();
  }

 private:
  static float value(Code code, float s) { return code == kZero ? 0.0f : code == kPlus ? s : -s; }
};

xfed::Status register_ternary() {
  xfed::StageDef def;
  def.name = "ternary";
  def.slot = xfed::StageSlot::kValues;
  def.id = 200;  // a program's own stages: 128..255
  def.usage = "ternary";
  def.parse = [](const std::vector<std::string>& args) -> xfed::Result<StagePtr> {
    if (!args.empty()) return xfed::Status::usage("ternary takes no argument");
    return StagePtr(std::make_shared<Ternary>());
  };
  // No parameters: nothing in descriptors or tasks.
  def.read_descriptor = def.read_params = [](xfed::ByteReader&) -> StagePtr { return std::make_shared<Ternary>(); };
  return xfed::register_stage(std::move(def));
}

}  // namespace

#ifndef XFED_EXAMPLE_NO_MAIN  // the fuzz target (tests/fuzz/fuzz_ternary.cc) has its own
int main(int argc, char** argv) {
  if (const auto st = register_ternary(); !st) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 2;
  }
  return xfed::run_command_line(argc, argv);
}
#endif
