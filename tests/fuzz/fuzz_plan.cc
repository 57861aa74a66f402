// libFuzzer target: structure plans (plan frames) and the class statistics of stats frames.
#include "pruning/evidence.h"
#include "pruning/structure_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xfed;
  if (size == 0) return 0;
  ByteReader r(data + 1, size - 1);
  if (data[0] & 1) {
    (void)pruning::StructurePlan::read(r);
  } else {
    (void)pruning::Evidence::read(r, {8, 4, 16}, 10);
  }
  return 0;
}
