#include "compression/zstd_codec.h"

#include <zstd.h>

#include <string>

namespace xfed::compression {
namespace {

// The one checking helper every zstd call goes through.
size_t zstd_check(size_t code, const char* what) {
  if (ZSTD_isError(code)) throw Error(std::string("zstd ") + what + ": " + ZSTD_getErrorName(code));
  return code;
}

}  // namespace

Bytes zstd_compress(const uint8_t* data, size_t size, int level) {
  Bytes out(ZSTD_compressBound(size));
  const size_t n = zstd_check(ZSTD_compress(out.data(), out.size(), data, size, level), "compress");
  out.resize(n);
  return out;
}

Result<Bytes> zstd_decompress(const uint8_t* data, size_t size, size_t expected_size) {
  const unsigned long long content = ZSTD_getFrameContentSize(data, size);
  if (content == ZSTD_CONTENTSIZE_ERROR) return Status::corruption("zstd: not a zstd frame");
  if (content != ZSTD_CONTENTSIZE_UNKNOWN && content != expected_size)
    return Status::corruption("zstd: frame holds " + std::to_string(content) + " bytes, header says " +
                         std::to_string(expected_size));
  Bytes out(expected_size);
  const size_t n = ZSTD_decompress(out.data(), out.size(), data, size);
  if (ZSTD_isError(n)) return Status::corruption(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != expected_size)
    return Status::corruption("zstd: decompressed " + std::to_string(n) + " bytes, expected " +
                         std::to_string(expected_size));
  return out;
}

}  // namespace xfed::compression
