#include "pruning/bf16_gram.h"

#include <atomic>

#include "xfed/config.h"

#if XFED_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>

#include <memory>
#endif

namespace xfed::pruning {
namespace {
std::atomic<bool> units_enabled{true};
}  // namespace

void use_bf16_units(bool on) { units_enabled = on; }

#if XFED_HAVE_DNNL
namespace {

// One engine, stream and runtime-sized matmul per thread; null when oneDNN offers no bf16
// matmul on this CPU.
struct GramPrimitive {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::matmul matmul;

  GramPrimitive() {
    using dt = dnnl::memory::data_type;
    const auto any = DNNL_RUNTIME_DIM_VAL;
    const dnnl::memory::desc src({any, any}, dt::bf16, dnnl::memory::dims{1, any});  // rows^T
    const dnnl::memory::desc weights({any, any}, dt::bf16, dnnl::memory::dims{any, 1});
    const dnnl::memory::desc dst({any, any}, dt::f32, dnnl::memory::dims{any, 1});
    matmul = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, dst), engine));
  }
};

GramPrimitive* gram_primitive() {
  thread_local std::unique_ptr<GramPrimitive> primitive;
  thread_local bool tried = false;
  if (!tried) {
    tried = true;
    const auto isa = dnnl::get_effective_cpu_isa();
    const bool native_bf16 = isa == dnnl::cpu_isa::avx512_core_bf16 ||
                             isa == dnnl::cpu_isa::avx512_core_amx;
    try {
      if (native_bf16) primitive = std::make_unique<GramPrimitive>();
    } catch (const dnnl::error&) {
      primitive.reset();
    }
  }
  return primitive.get();
}

}  // namespace

bool bf16_units_active() { return units_enabled && gram_primitive() != nullptr; }

bool bf16_gram(const uint16_t* rows, int64_t n, int64_t m, float* out) {
  auto* p = units_enabled ? gram_primitive() : nullptr;
  if (!p) return false;
  using dt = dnnl::memory::data_type;
  auto* data = const_cast<uint16_t*>(rows);  // oneDNN's handles are non-const; read only
  const dnnl::memory src({{m, n}, dt::bf16, dnnl::memory::dims{1, m}}, p->engine, data);
  const dnnl::memory weights({{n, m}, dt::bf16, dnnl::memory::dims{m, 1}}, p->engine, data);
  const dnnl::memory dst({{m, m}, dt::f32, dnnl::memory::dims{m, 1}}, p->engine, out);
  p->matmul.execute(p->stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
  p->stream.wait();
  return true;
}

#else

bool bf16_gram(const uint16_t*, int64_t, int64_t, float*) { return false; }
bool bf16_units_active() { return false; }

#endif

}  // namespace xfed::pruning
