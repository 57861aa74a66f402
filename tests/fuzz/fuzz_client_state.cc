// libFuzzer target: the clients' error-feedback state beside a checkpoint (DIR/clients.xfed).
#include "worker/error_feedback.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xfed::ByteReader r(data, size);
  xfed::worker::ClientStateStore store;
  (void)store.restore(r);
  return 0;
}
