// A model for devices (#20): the layers of an mlp or a LeNet-5 as weight matrices in one of
// the compact formats of compression/shared_matrix.h (dense, CSR, CER, CSER), with float32
// biases. A convolution's weights are the matrix out x (in·k·k) that multiplies its inputs'
// im2col columns, so the same formats and products serve Linear and Conv layers.
// compact_chain() says which layers a spec's model has, in order and with their shapes; the
// file reader (deploy/xdc_file.h) and the exporter (deploy/export_compact.h) both follow it,
// so a file can only hold the layers its spec implies. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compression/shared_matrix.h"
#include "core/model_spec.h"
#include "core/status.h"

namespace xfed::deploy {

// The values are stored in files: never change one, only add.
enum class MatrixFormat : uint8_t { kDense = 1, kCsr = 2, kCer = 3, kCser = 4 };
const char* format_name(MatrixFormat f);
constexpr MatrixFormat kAllFormats[] = {MatrixFormat::kDense, MatrixFormat::kCsr, MatrixFormat::kCer,
                                        MatrixFormat::kCser};

enum class LayerKind : uint8_t { kLinear, kConv };

struct LayerShape {
  std::string name;          // the state's tensor prefix: "layers.0", "conv1"
  LayerKind kind = LayerKind::kLinear;
  int64_t out = 0, in = 0;   // Linear: features; Conv: channels
  int64_t kernel = 1;        // Conv: kernel x kernel, stride 1, no padding
  int64_t positions = 1;     // Conv: output positions per sample (one product per position)
  int64_t cols() const { return in * kernel * kernel; }
};

struct CompactLayer {
  LayerShape shape;
  MatrixFormat format = MatrixFormat::kDense;
  compression::DenseMatrix dense;  // format dense
  compression::CsrMatrix csr;      // format CSR
  compression::CerMatrix cer;      // formats CER and CSER (named_values)
  std::vector<float> bias;         // shape.out values
};

struct CompactModel {
  ModelSpec spec;
  std::vector<CompactLayer> layers;  // compact_chain(spec)'s layers, in order
};

// The layers of the spec's model (mlp: layers.0 .. layers.L; lenet5: conv1 conv2 fc1 fc2);
// a usage error naming the arch for any other family, or for a layer of 2^32 weights or more.
Result<std::vector<LayerShape>> compact_chain(const ModelSpec& spec);

// The layer in `format` from its dense weight matrix (shape.out x shape.cols()).
CompactLayer make_layer(const LayerShape& shape, MatrixFormat format, const compression::DenseMatrix& weights,
                        std::vector<float> bias);

// The weight matrix of a layer of any format, dense again (tests; LibTorch from a file).
compression::DenseMatrix dense_weights(const CompactLayer& layer);

// One inference's arithmetic in the layer's format: its products (times the positions of a
// convolution) and the bias additions.
compression::Operations layer_operations(const CompactLayer& layer);

// What a reader checks before computing: the matrix's arrays (compression::check), its shape
// against the layer's, finite values and biases; the error names the layer.
Status check_layer(const CompactLayer& layer);

}  // namespace xfed::deploy
