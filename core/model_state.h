// Moving a Net's state in and out of one flat float32 vector (layout: core/state_layout.h),
// and the model checksum reported in metrics. Copies only; the Net keeps its own tensors.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "core/coding.h"
#include "core/model.h"
#include "core/state_layout.h"

namespace xfed {

StateLayout layout_of(NetImpl& net);
// 1-D float32 tensor holding the whole state, in layout order.
at::Tensor read_state(NetImpl& net);
// Copies `flat` (1-D float32, layout.total elements) into the Net's parameters and buffers.
void write_state(NetImpl& net, const at::Tensor& flat);
// FNV-1a 64 over the bytes of a flat float32 state, as 16 hex digits.
std::string state_checksum(const at::Tensor& flat);
// CRC-32 of the bytes of a flat float32 state (fast; proves two parties hold the same view).
uint32_t state_crc(const at::Tensor& flat);

// A flat float32 tensor in a file: element count, then raw little-endian floats. An
// undefined tensor is written as 0 elements. Reading checks the count against the bytes
// left; 0 elements read back as an empty tensor.
void put_floats(ByteWriter& w, const at::Tensor& t);
[[nodiscard]] bool get_floats(ByteReader& r, at::Tensor* t);

}  // namespace xfed
