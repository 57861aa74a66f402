// Bring your own compression stage: a sparsifier (which positions of a tensor are sent) or
// a value stage (how the sent values are written), registered with register_stage under a
// name and a codec id of its own (128..255), and used in `--compress` / `--downlink` like
// the built-ins ("topk:0.01,NAME:ARGS,zstd"). Error feedback, the decoders' checks against
// the frame's codec list, and zstd around the payload come with the pipeline. Each process
// that encodes or decodes needs the stage, so a program that registers one hands its
// command line to xfed::run_command_line (xfed/cli.h). The built-ins register the same way.
#pragma once

#include "compression/stage.h"
#include "core/coding.h"
#include "core/rng.h"

namespace xfed {

using compression::Sparsifier;
using compression::Stage;
using compression::StageDef;
using compression::StageSlot;
using compression::ValueStage;
using compression::kFirstUserCodecId;
using compression::register_stage;  // ByteWriter, ByteReader: core/coding.h

}  // namespace xfed
