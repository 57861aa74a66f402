// libFuzzer target: checkpoint files (DIR/checkpoint.xfed).
#include "coordinator/checkpoint.h"

#include "tests/fuzz/frame_crc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)xfed::coordinator::decode_checkpoint(xfed::fuzzing::with_valid_crc(data, size), "fuzz");
  return 0;
}
