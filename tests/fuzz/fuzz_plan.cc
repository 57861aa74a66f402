// libFuzzer target: structure plans (plan frames) and the class statistics of stats frames
// (decoded, then checked as the coordinator checks them).
#include "pruning/evidence.h"
#include "pruning/structure_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xfed;
  if (size == 0) return 0;
  ByteReader r(data + 1, size - 1);
  if (data[0] & 1) {
    (void)pruning::StructurePlan::read(r);
  } else {
    // What the coordinator does with a client's statistics: decode, then check them.
    const auto ev = pruning::Evidence::read(r, {8, 4, 16}, 10);
    if (ev.is_ok())
      for (const auto& tap : ev.value().taps)
        if (tap) (void)tap->check_consistent(1 + data[0] / 2, data[0] & 2);
  }
  return 0;
}
