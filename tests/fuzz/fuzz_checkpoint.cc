// libFuzzer target: checkpoint files (DIR/checkpoint.xfed).
#include "coordinator/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)xfed::coordinator::decode_checkpoint(xfed::Bytes(data, data + size), "fuzz");
  return 0;
}
