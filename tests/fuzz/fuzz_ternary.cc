// libFuzzer target: a program's own compression stage decoded from outside bytes like the
// built-ins — the example's ternary stage (examples/ternary_stage.cc, without its main)
// registered, then compressed state payloads as fuzz_pipeline reads them.
#define XFED_EXAMPLE_NO_MAIN
#include "examples/ternary_stage.cc"
#include "tests/fuzz/decode_state_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool registered = static_cast<bool>(register_ternary());
  if (!registered) __builtin_trap();
  xfed::fuzzing::decode_state_input(data, size);
  return 0;
}
