// libFuzzer target: compressed state payloads (updates, deltas, models) with the built-in
// stages. Input: decode_state_input.h.
#include "tests/fuzz/decode_state_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xfed::fuzzing::decode_state_input(data, size);
  return 0;
}
