// The .xdc file (#20): a compact model for devices, read by `xfed eval --load-model M.xdc`.
//   "XDC1" | u8 version (1) | u32 CRC-32 of everything after it | string spec JSON |
//   varint layers | per layer: string name, u8 format (deploy/compact_model.h), the format's
//   arrays, the bias (values coding, out values)
// Per format, every array entropy-coded (deploy/entropy_coding.h):
//   dense  values of the out x cols weights, row by row
//   csr    symbols: per row its nonzeros; symbols: column gaps (first: the column, then the
//          step minus one); values of the nonzeros
//   cer    varint k, k float32 codebook; symbols: per row its segments; symbols: per segment
//          its length; symbols: column gaps within each segment (as csr)
//   cser   as cer, then symbols: per segment its value's place in the codebook
// The layers and their shapes follow from the spec (compact_chain): a file holds exactly
// those, in order. The reader is a decoder of outside bytes: it checks the magic, version,
// checksum, every count against the bytes left, every index, and every matrix
// (check_layer), and names the file in its one-line error.
#pragma once

#include <string>

#include "core/coding.h"
#include "core/status.h"
#include "deploy/compact_model.h"

namespace xfed::deploy {

constexpr uint8_t kXdcVersion = 1;
constexpr uint64_t kMaxXdcBytes = uint64_t{1} << 32;

Bytes encode_xdc(const CompactModel& model);
// What one layer takes in a file (its name, format, arrays and bias).
size_t layer_file_bytes(const CompactLayer& layer);

Result<CompactModel> decode_xdc(const Bytes& bytes, const std::string& path);
Result<CompactModel> read_xdc_file(const std::string& path);
// Whether the bytes begin with the .xdc magic (the file is not a saved model frame).
bool looks_like_xdc(const Bytes& head);
bool is_xdc_file(const std::string& path);

}  // namespace xfed::deploy
