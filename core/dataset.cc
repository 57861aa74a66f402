#include "core/dataset.h"

#include <ATen/ATen.h>

#include "core/check.h"

namespace xfed {

Dataset Dataset::subset(const std::vector<int64_t>& indices) const {
  const auto idx = at::tensor(indices, at::kLong);
  Dataset d;
  d.images = images.index_select(0, idx);
  d.labels = labels.index_select(0, idx);
  d.classes = classes;
  return d;
}

std::vector<int64_t> Dataset::class_histogram() const {
  std::vector<int64_t> hist(classes, 0);
  const auto lab = labels.contiguous();
  const int64_t* p = lab.data_ptr<int64_t>();
  for (int64_t i = 0; i < size(); ++i) {
    XFED_CHECK(p[i] >= 0 && p[i] < classes, "label out of range");
    ++hist[p[i]];
  }
  return hist;
}

}  // namespace xfed
