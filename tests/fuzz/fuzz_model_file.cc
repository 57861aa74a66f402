// libFuzzer target: saved models (--save-model, xfed eval --load-model): spec JSON + state.
#include "coordinator/model_file.h"

#include "tests/fuzz/frame_crc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)xfed::coordinator::decode_model_file(xfed::fuzzing::with_valid_crc(data, size), "fuzz");
  return 0;
}
