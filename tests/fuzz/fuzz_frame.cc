// libFuzzer target: frames from the wire (every transport and every file is one).
#include "protocol/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto frame = xfed::protocol::decode_frame(xfed::Bytes(data, data + size), 1 << 20);
  if (frame) (void)frame.value().payload_reader().remaining();
  return 0;
}
