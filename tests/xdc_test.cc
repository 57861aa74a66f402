// Models for devices (#20), the torch-free half: the entropy-coded arrays (hand-made bytes),
// the .xdc file in every format (round trips exactly; malformed files refused with one line
// naming the file), and inference from compact layers against an independent float64
// forward written here with naive loops, within the error bound the inference states.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "deploy/compact_inference.h"
#include "deploy/entropy_coding.h"
#include "deploy/export_compact.h"
#include "deploy/xdc_file.h"

namespace xfed::deploy {
namespace {

using compression::DenseMatrix;

TEST(EntropyCoding, SymbolsHaveTheDocumentedBytes) {
  Bytes b;
  ByteWriter w(&b);
  put_symbols({5, 5, 5, 7}, &w);
  // 2 symbols: 5 (length 1), 7 = 5 + 1 + 1 (length 1); 1 byte of bits: ranks 0,0,0,1 written
  // first bit lowest.
  EXPECT_EQ(b, (Bytes{2, 5, 1, 1, 1, 1, 0x08}));
  ByteReader r(b);
  EXPECT_EQ(get_symbols(&r, 4, 7, "t").value(), (std::vector<uint32_t>{5, 5, 5, 7}));
  EXPECT_TRUE(r.done());
  ByteReader above(b);
  EXPECT_NE(get_symbols(&above, 4, 6, "t").message().find("t: symbol above 6"), std::string::npos);
  ByteReader more(b);
  EXPECT_NE(get_symbols(&more, 9, 7, "t").message().find("t: huffman: 9 symbols cannot fit in 1 bytes"), std::string::npos);
}

TEST(EntropyCoding, ValuesTakeTheSmallerCodingAndRoundTrip) {
  std::vector<float> few(1000), many(50);
  for (size_t i = 0; i < few.size(); ++i) few[i] = (i % 3 == 0) ? 0.25f : -0.5f;
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<float>(i) * 0.1f;
  for (const auto& v : {few, many, std::vector<float>{}}) {
    Bytes b;
    ByteWriter w(&b);
    put_values(v, &w);
    ByteReader r(b);
    EXPECT_EQ(get_values(&r, v.size(), "v").value(), v);
    EXPECT_TRUE(r.done());
  }
  Bytes b;
  ByteWriter w(&b);
  put_values(few, &w);
  EXPECT_EQ(b[0], 1) << "two distinct values: codebook";
  EXPECT_LT(b.size(), 1 + 1 + 8 + 8 + 1000 / 8 + 4) << "about one bit per value";
  Bytes raw;
  ByteWriter wr(&raw);
  put_values(many, &wr);
  EXPECT_EQ(raw[0], 0) << "all distinct: raw float32";
  EXPECT_EQ(raw.size(), 1 + 50 * 4u);
  raw[1 + 4 * 7 + 3] = 0x7f, raw[1 + 4 * 7 + 2] = 0xc0;  // value 7 becomes a NaN
  ByteReader r(raw);
  EXPECT_NE(get_values(&r, 50, "v").message().find("not finite"), std::string::npos);
}

// A small mlp (with pruned inputs) and a LeNet-5 on 16x16 inputs, weights drawn from a few
// shared values with zeros, so that every format has something to do.
ModelSpec mlp_spec() {
  auto s = make_spec("mlp", 1, 6, 6, 3, {5, 4}).value();
  s.input_kept = {0, 2, 3, 7, 11, 12, 20, 35};
  return s;
}
ModelSpec lenet_spec() { return make_spec("lenet5", 2, 16, 16, 4, {3, 4, 6}).value(); }

NamedArrays shared_state(const ModelSpec& spec, uint32_t seed) {
  std::mt19937 gen(seed);
  const std::vector<float> book = {0.0f, 0.0f, 0.0f, 0.5f, -0.25f, 0.125f, -1.0f, 0.75f};
  std::uniform_int_distribution<size_t> pick(0, book.size() - 1);
  std::normal_distribution<float> bias(0.0f, 0.1f);
  NamedArrays state;
  const auto chain = compact_chain(spec).value();
  for (const auto& l : chain) {
    auto& w = state[l.name + ".weight"];
    for (int64_t i = 0; i < l.out * l.cols(); ++i) w.push_back(book[pick(gen)]);
    auto& b = state[l.name + ".bias"];
    for (int64_t i = 0; i < l.out; ++i) b.push_back(bias(gen));
  }
  return state;
}

CompactModel model_in(const ModelSpec& spec, std::optional<MatrixFormat> format, uint32_t seed = 1) {
  return build_compact(spec, shared_state(spec, seed), {format, 0}).value();
}

TEST(XdcFile, EveryFormatRoundTripsExactly) {
  for (const auto& spec : {mlp_spec(), lenet_spec()})
    for (MatrixFormat f : kAllFormats) {
      const auto model = model_in(spec, f);
      const auto back = decode_xdc(encode_xdc(model), "m.xdc").value();
      EXPECT_EQ(back.spec, spec);
      ASSERT_EQ(back.layers.size(), model.layers.size());
      for (size_t i = 0; i < model.layers.size(); ++i) {
        EXPECT_EQ(back.layers[i].format, f);
        EXPECT_EQ(dense_weights(back.layers[i]).values, dense_weights(model.layers[i]).values) << format_name(f);
        EXPECT_EQ(back.layers[i].bias, model.layers[i].bias);
      }
    }
}

TEST(XdcFile, AutoTakesTheSmallestFormatPerLayer) {
  const auto spec = lenet_spec();
  const auto best = model_in(spec, std::nullopt);
  for (size_t i = 0; i < best.layers.size(); ++i)
    for (MatrixFormat f : kAllFormats)
      EXPECT_LE(layer_file_bytes(best.layers[i]), layer_file_bytes(model_in(spec, f).layers[i]))
          << best.layers[i].shape.name << " vs " << format_name(f);
}

TEST(XdcFile, SharingLeavesAtMostTwoToTheBitsValuesAndKeepsZeros) {
  const auto spec = mlp_spec();
  NamedArrays state = shared_state(spec, 3);
  std::mt19937 gen(4);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (auto& v : state["layers.0.weight"]) v = v == 0.0f ? 0.0f : n(gen);
  const auto model = build_compact(spec, state, {MatrixFormat::kDense, 2}).value();
  for (const auto& l : model.layers) {
    const auto& w = l.dense.values;
    std::set<float> nonzero;
    for (size_t i = 0; i < w.size(); ++i) {
      EXPECT_EQ(w[i] == 0.0f, state[l.shape.name + ".weight"][i] == 0.0f) << "zeros stay, nothing new becomes zero";
      if (w[i] != 0.0f) nonzero.insert(w[i]);
    }
    EXPECT_EQ(nonzero.size(), 4u) << l.shape.name;
  }
  // Layer 1 holds 5 nonzero values: 3 bits keep them exactly.
  EXPECT_EQ(build_compact(spec, state, {MatrixFormat::kDense, 3}).value().layers[1].dense.values,
            state["layers.1.weight"]);
}

// Every way a file can be wrong ends in one line that names it.
void expect_refused(const Bytes& file, const std::string& why) {
  const auto r = decode_xdc(file, "bad.xdc");
  ASSERT_FALSE(r) << why;
  EXPECT_EQ(r.message().rfind("bad.xdc: ", 0), 0u) << r.message();
  EXPECT_NE(r.message().find(why), std::string::npos) << r.message();
  EXPECT_EQ(r.message().find('\n'), std::string::npos);
}

TEST(XdcFile, MalformedFilesAreRefusedWithOneLine) {
  const Bytes good = encode_xdc(model_in(mlp_spec(), MatrixFormat::kCser));
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(decode_xdc(Bytes(good.begin(), good.begin() + n), "bad.xdc"));
  expect_refused(Bytes(good.begin(), good.begin() + 7), "truncated header");
  Bytes flipped = good;
  flipped.back() ^= 1;
  expect_refused(flipped, "checksum mismatch");
  Bytes version = good;
  version[4] = 2;
  expect_refused(version, ".xdc version 2");
  expect_refused(Bytes{'P', 'K', 3, 4}, "no XDC1 magic");

  auto bad_index = model_in(mlp_spec(), MatrixFormat::kCser);
  bad_index.layers[1].cer.value_index[0] = static_cast<uint32_t>(bad_index.layers[1].cer.codebook.size());
  expect_refused(encode_xdc(bad_index), "layer layers.1 value indices: ");
  auto nan = model_in(mlp_spec(), MatrixFormat::kCer);
  nan.layers[0].cer.codebook[0] = std::numeric_limits<float>::quiet_NaN();
  expect_refused(encode_xdc(nan), "layer layers.0: CER: a codebook value that is not finite");
  auto column = model_in(mlp_spec(), MatrixFormat::kCsr);
  column.layers[2].csr.columns.back() = 7;  // past the 4 columns; the step from the one before it
  expect_refused(encode_xdc(column), "layer layers.2 columns: ");
  auto spec = model_in(mlp_spec(), MatrixFormat::kDense);
  spec.spec.widths[0] = 6;  // the spec says 6 units, the file holds 5
  expect_refused(encode_xdc(spec), "layer layers.0");
  auto layers = model_in(mlp_spec(), MatrixFormat::kDense);
  layers.layers.pop_back();
  expect_refused(encode_xdc(layers), "2 layers where the spec has 3");
  auto vgg = model_in(mlp_spec(), MatrixFormat::kDense);
  vgg.spec = make_spec("vgg", 3, 32, 32, 10).value();
  expect_refused(encode_xdc(vgg), "a compact model computes mlp and lenet5 models; this one is vgg");
}

// The independent reference: the chain in float64 with naive loops from dense weights, and
// beside it the bound on what the compact inference may differ by: per layer one float32
// rounding of each product and one of the bias addition (2u(|W||x| + |b|), u = 2^-24), carried
// on through |W| (ReLU and max pooling do not increase a difference), plus float64's own.
struct Reference {
  std::vector<double> value, bound;
};

constexpr double kU = 1.0 / (1 << 24);

Reference linear(const CompactLayer& l, const Reference& x, bool relu) {
  const auto w = dense_weights(l);
  Reference y{std::vector<double>(l.shape.out), std::vector<double>(l.shape.out)};
  for (int64_t r = 0; r < l.shape.out; ++r) {
    double z = 0, mag = std::fabs(l.bias[r]), carried = 0;
    for (int64_t c = 0; c < w.cols; ++c) {
      const double a = w.values[r * w.cols + c];
      z += a * x.value[c], mag += std::fabs(a * x.value[c]), carried += std::fabs(a) * x.bound[c];
    }
    y.value[r] = relu ? std::max(z + l.bias[r], 0.0) : z + l.bias[r];
    y.bound[r] = carried + 2 * kU * (mag + carried) + 1e-12 * mag;
  }
  return y;
}

// One sample through LeNet-5 (channels-major maps, LibTorch's layouts).
Reference conv_pool(const CompactLayer& l, const Reference& x, int64_t h, int64_t w) {
  const int64_t k = l.shape.kernel, oh = h - k + 1, ow = w - k + 1, in = l.shape.in;
  const auto wt = dense_weights(l);
  Reference y{std::vector<double>(l.shape.out * (oh / 2) * (ow / 2)), {}};
  y.bound = y.value;
  for (int64_t o = 0; o < l.shape.out; ++o)
    for (int64_t py = 0; py < oh / 2; ++py)
      for (int64_t px = 0; px < ow / 2; ++px) {
        double best = -1e300, worst_bound = 0;
        for (int64_t q = 0; q < 4; ++q) {
          const int64_t oy = 2 * py + q / 2, ox = 2 * px + q % 2;
          double z = l.bias[o], mag = std::fabs(l.bias[o]), carried = 0;
          for (int64_t c = 0; c < in; ++c)
            for (int64_t ky = 0; ky < k; ++ky)
              for (int64_t kx = 0; kx < k; ++kx) {
                const double a = wt.values[o * wt.cols + (c * k + ky) * k + kx];
                const size_t at = (c * h + oy + ky) * w + ox + kx;
                z += a * x.value[at], mag += std::fabs(a * x.value[at]), carried += std::fabs(a) * x.bound[at];
              }
          best = std::max(best, std::max(z, 0.0));
          worst_bound = std::max(worst_bound, carried + 2 * kU * (mag + carried) + 1e-12 * mag);
        }
        const size_t at = (o * (oh / 2) + py) * (ow / 2) + px;
        y.value[at] = best, y.bound[at] = worst_bound;
      }
  return y;
}

Reference reference_logits(const CompactModel& m, const std::vector<float>& image) {
  const auto& s = m.spec;
  Reference x;
  if (s.arch == "mlp") {
    for (int64_t p : s.input_kept) x.value.push_back(image[p]);
  } else {
    x.value.assign(image.begin(), image.end());
  }
  x.bound.assign(x.value.size(), 0.0);
  size_t first = 0;
  if (s.arch == "lenet5") {
    x = conv_pool(m.layers[0], x, s.height, s.width);
    x = conv_pool(m.layers[1], x, (s.height - 4) / 2, (s.width - 4) / 2);
    first = 2;
  }
  for (size_t i = first; i < m.layers.size(); ++i) x = linear(m.layers[i], x, i + 1 < m.layers.size());
  return x;
}

TEST(CompactInference, EveryFormatComputesTheReferenceWithinItsBound) {
  std::mt19937 gen(9);
  std::uniform_real_distribution<float> pixel(-1.0f, 2.0f);
  for (const auto& spec : {mlp_spec(), lenet_spec()}) {
    const int64_t batch = 5, size = spec.in_channels * spec.height * spec.width;
    std::vector<float> images(static_cast<size_t>(batch * size));
    for (auto& p : images) p = pixel(gen);
    for (MatrixFormat f : kAllFormats) {
      const auto model = model_in(spec, f, 11);
      const auto logits = compact_logits(model, images, batch).value();
      ASSERT_EQ(logits.size(), static_cast<size_t>(batch * spec.classes));
      for (int64_t b = 0; b < batch; ++b) {
        const auto ref = reference_logits(model, std::vector<float>(images.begin() + b * size, images.begin() + (b + 1) * size));
        for (int64_t k = 0; k < spec.classes; ++k)
          EXPECT_LE(std::fabs(logits[b * spec.classes + k] - ref.value[k]), ref.bound[k])
              << spec.arch << " " << format_name(f) << " sample " << b << " class " << k;
      }
    }
  }
  EXPECT_FALSE(compact_logits(model_in(mlp_spec(), std::nullopt), std::vector<float>(35), 1));
}

TEST(CompactInference, SharedFormatsMultiplyOncePerDistinctValueOfARow) {
  // fc: 4 x 3 weights {0.5, 0.5, 0.5 | -1, 0, -1 | 0.5, 0, 0 | 0, 0, 0}: CSR multiplies per
  // nonzero (3 + 2 + 1 = 6), CER/CSER once per value a row holds (1 + 1 + 1 = 3); a conv
  // layer's counts are per output position.
  ModelSpec spec;  // no hidden layer: one 4 x 3 product
  spec.arch = "mlp", spec.height = 1, spec.width = 3, spec.classes = 4;
  NamedArrays state{{"layers.0.weight", {0.5f, 0.5f, 0.5f, -1, 0, -1, 0.5f, 0, 0, 0, 0, 0}},
                    {"layers.0.bias", {0, 0, 0, 0}}};
  const auto mults = [&](MatrixFormat f) {
    return model_operations(build_compact(spec, state, {f, 0}).value()).multiplications;
  };
  EXPECT_EQ(mults(MatrixFormat::kDense), 12);
  EXPECT_EQ(mults(MatrixFormat::kCsr), 6);
  EXPECT_EQ(mults(MatrixFormat::kCer), 3);
  EXPECT_EQ(mults(MatrixFormat::kCser), 3);
  const auto lenet = model_in(lenet_spec(), MatrixFormat::kDense);
  EXPECT_EQ(layer_operations(lenet.layers[0]).multiplications, 3 * 2 * 25 * 12 * 12);
}

}  // namespace
}  // namespace xfed::deploy
