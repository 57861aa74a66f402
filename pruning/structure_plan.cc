#include "pruning/structure_plan.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace xfed::pruning {

constexpr uint64_t kMaxLayers = 1024;
constexpr uint64_t kMaxUnits = uint64_t{1} << 24;
constexpr uint64_t kMaxPatches = 1024;
constexpr uint64_t kMaxPatchValues = uint64_t{1} << 28;

namespace {

void write_patches(ByteWriter& w, const std::vector<TensorPatch>& patches) {
  w.put_varint(patches.size());
  for (const auto& p : patches) {
    w.put_string(p.tensor);
    w.put_varint(p.values.size());
    for (float v : p.values) w.put_f32(v);
  }
}

Status read_patches(ByteReader& r, std::vector<TensorPatch>* patches) {
  uint64_t count;
  if (!r.get_varint(&count) || count > kMaxPatches) return Status::corruption("malformed patch count");
  patches->assign(count, {});
  for (auto& p : *patches) {
    uint64_t n;
    if (!r.get_string(&p.tensor, 1024) || !r.get_varint(&n) || n > kMaxPatchValues || n * 4 > r.remaining())
      return Status::corruption("truncated or malformed refitted tensor");
    p.values.resize(n);
    for (auto& v : p.values)
      if (!r.get_f32(&v)) return Status::corruption("truncated refitted tensor " + p.tensor);
    if (!std::all_of(p.values.begin(), p.values.end(), [](float v) { return std::isfinite(v); }))
      return Status::corruption("refitted tensor " + p.tensor + " holds a non-finite value");
  }
  return Status::ok();
}

}  // namespace

void write_index_lists(ByteWriter& w, const std::vector<std::vector<int64_t>>& lists) {
  w.put_varint(lists.size());
  for (const auto& layer : lists) {
    w.put_varint(layer.size());
    int64_t prev = -1;
    for (auto i : layer) {  // ascending: store gaps
      w.put_varint(static_cast<uint64_t>(i - prev - 1));
      prev = i;
    }
  }
}

Status read_index_lists(ByteReader& r, std::vector<std::vector<int64_t>>* lists) {
  uint64_t layers;
  if (!r.get_varint(&layers) || layers > kMaxLayers)
    return Status::corruption("truncated or malformed layer count");
  lists->assign(layers, {});
  for (auto& layer : *lists) {
    uint64_t n;
    if (!r.get_varint(&n) || n > kMaxUnits) return Status::corruption("malformed unit count");
    int64_t prev = -1;
    for (uint64_t j = 0; j < n; ++j) {
      uint64_t gap;
      if (!r.get_varint(&gap) || gap > kMaxUnits) return Status::corruption("truncated unit indices");
      prev += static_cast<int64_t>(gap) + 1;
      layer.push_back(prev);
    }
  }
  return Status::ok();
}

void StructurePlan::write(ByteWriter& w) const {
  w.put_varint(static_cast<uint64_t>(version));
  w.put_string(from.to_json());
  write_index_lists(w, kept);
  if (!patches.empty()) write_patches(w, patches);
}

Result<StructurePlan> StructurePlan::read(ByteReader& r) {
  StructurePlan p;
  uint64_t version;
  std::string spec;
  if (!r.get_varint(&version) || !r.get_string(&spec)) return Status::corruption("truncated or malformed plan");
  auto from = ModelSpec::from_json(spec);
  if (!from) return from.status().prefixed("plan");
  p.version = static_cast<int64_t>(version);
  p.from = from.value();
  if (auto st = read_index_lists(r, &p.kept); !st) return st.prefixed("plan");
  if (!r.done()) {  // plans without refitted weights end here
    if (auto st = read_patches(r, &p.patches); !st) return st.prefixed("plan");
  }
  return p;
}

Status StructurePlan::validate(const std::vector<int64_t>& units) const {
  if (kept.size() != units.size())
    return Status::corruption("plan has " + std::to_string(kept.size()) + " layers, the model " +
                         std::to_string(units.size()));
  for (size_t l = 0; l < kept.size(); ++l) {
    if (kept[l].empty()) return Status::corruption("plan keeps no unit of layer " + std::to_string(l));
    for (size_t j = 0; j < kept[l].size(); ++j) {
      if (kept[l][j] < 0 || kept[l][j] >= units[l] || (j > 0 && kept[l][j] <= kept[l][j - 1]))
        return Status::corruption("plan layer " + std::to_string(l) + ": indices must be ascending and below " +
                             std::to_string(units[l]));
    }
  }
  return Status::ok();
}

int64_t StructurePlan::kept_units() const {
  int64_t n = 0;
  for (const auto& l : kept) n += static_cast<int64_t>(l.size());
  return n;
}

}  // namespace xfed::pruning
