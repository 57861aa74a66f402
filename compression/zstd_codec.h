// zstd, the only place xfed calls it. Compression failures are bugs (checked, throwing);
// decompression failures are bad input (Status). Decompression is capped: a frame that
// claims or produces more than max_size bytes is rejected, so a tiny payload cannot
// expand into gigabytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/coding.h"
#include "core/status.h"

namespace xfed::compression {

Bytes zstd_compress(const uint8_t* data, size_t size, int level);
Result<Bytes> zstd_decompress(const uint8_t* data, size_t size, size_t expected_size);

}  // namespace xfed::compression
