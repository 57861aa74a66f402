// libFuzzer target: .xdc files (xfed eval --load-model M.xdc; deploy/xdc_file.h). The CRC is
// rewritten so that mutations reach the layers' decoders. A file the reader accepts must
// write back to a file that reads as the same weights (the writer and reader agree).
#include <cstdlib>

#include "deploy/xdc_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xfed::Bytes b(data, data + size);
  constexpr size_t kHeader = 9;  // magic, version, CRC
  if (b.size() >= kHeader) {
    const uint32_t crc = xfed::crc32_of(b.data() + kHeader, b.size() - kHeader);
    for (int i = 0; i < 4; ++i) b[5 + i] = static_cast<uint8_t>(crc >> (8 * i));
  }
  const auto model = xfed::deploy::decode_xdc(b, "fuzz");
  if (!model) return 0;
  const auto again = xfed::deploy::decode_xdc(xfed::deploy::encode_xdc(model.value()), "again");
  if (!again || again.value().layers.size() != model.value().layers.size()) std::abort();
  for (size_t i = 0; i < model.value().layers.size(); ++i) {
    const auto& a = model.value().layers[i];
    const auto& z = again.value().layers[i];
    if (xfed::deploy::dense_weights(a).values != xfed::deploy::dense_weights(z).values || a.bias != z.bias) std::abort();
  }
  return 0;
}
