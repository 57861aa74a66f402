// libFuzzer target: saved models (--save-model, xfed eval --load-model): spec JSON + state.
#include "coordinator/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)xfed::coordinator::decode_model_file(xfed::Bytes(data, data + size), "fuzz");
  return 0;
}
