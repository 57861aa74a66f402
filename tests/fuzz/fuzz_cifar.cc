// libFuzzer target: CIFAR-10 binary batches.
#include "core/cifar_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)xfed::decode_cifar10(std::vector<uint8_t>(data, data + size), "fuzz");
  return 0;
}
