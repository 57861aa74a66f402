// Surgery: applying a StructurePlan to a model and to anything laid out like its state.
//
// Every tensor dimension named by the model's axis bindings is cut down to the kept units
// (for conv -> flatten -> linear each kept channel keeps its block of H*W columns); all
// other dimensions are untouched. The result is a real, smaller module built from
// spec_after(kept), not a mask. Flat vectors in the model's StateLayout (global weights,
// the downlink view, server optimizer moments, error-feedback residuals) are sliced with
// one gather index computed once per plan, so every party slices identically. A plan's
// refitted tensors (patches) are written over the sliced values, in the model and in flat
// states alike.
#pragma once

#include <ATen/core/Tensor.h>

#include "core/model.h"
#include "core/state_layout.h"
#include "pruning/structure_plan.h"

namespace xfed::pruning {

std::vector<int64_t> layer_units(const NetImpl& model);

// A new, smaller model holding the kept slices of `model`'s parameters and buffers.
Result<Net> apply_plan(NetImpl& model, const StructurePlan& plan);

// Tensor `name` of the model (shaped as in the model) cut down to the plan's kept units.
at::Tensor slice_named(at::Tensor t, const std::string& name, const std::vector<AxisBinding>& bindings,
                       const StructurePlan& plan);

// gather[j] = position in the old flat state of position j of the new flat state.
Result<at::Tensor> flat_gather_index(NetImpl& model, const StructurePlan& plan);
// old_flat (any length that is a prefix of the layout, e.g. parameters only) -> new.
at::Tensor slice_flat(const at::Tensor& old_flat, const at::Tensor& gather);
// Writes `patches` over `flat` (a state of the slim model, laid out by `slim_layout`; may be a
// prefix that holds every patched tensor). A patch that names no tensor or has the wrong
// size is an error and nothing is written.
Status apply_patches(at::Tensor& flat, const StateLayout& slim_layout, const std::vector<TensorPatch>& patches);
// The slim flat state: old_flat sliced by `gather`, then the plan's patches.
Result<at::Tensor> slice_and_patch(const at::Tensor& old_flat, const at::Tensor& gather,
                                   const StateLayout& slim_layout, const StructurePlan& plan);

}  // namespace xfed::pruning
