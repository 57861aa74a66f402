// File I/O at the edges: whole-file reads that refuse what is not a regular file or is
// larger than the caller can hold, and atomic writes that never replace anything but a
// regular file and reach the disk before the rename.
//
// Every error names the path and what was wrong ("PATH: is a directory, expected a file").
// Torch-free; thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>

#include "core/coding.h"
#include "core/status.h"

namespace xfed {

constexpr uint64_t kMaxFileBytes = uint64_t{8} << 30;

// The whole file. Refuses directories, devices, FIFOs and files over max_bytes.
Result<Bytes> read_file_bytes(const std::string& path, uint64_t max_bytes = kMaxFileBytes);

// The same for text files (config, CSV).
Result<std::string> read_text_file(const std::string& path, uint64_t max_bytes);

// "" when path is an existing regular file; else why not.
Status check_regular_file(const std::string& path);

// Writes path.tmp, fsyncs it, renames it over path: a crash leaves the old file or the new
// one, never half of one. Refuses a path that exists and is not a regular file (a device
// node, a directory).
Status write_file_atomically(const std::string& path, const Bytes& bytes);

// Before a run: `path` can be written as a file (its folder exists and is writable, and it
// is absent or a regular file). `flag` names the option in the error ("--save-model PATH:
// folder /nope does not exist").
Status check_output_file(const std::string& path, const std::string& flag);

// Before a run: `path` is a folder that exists or can be made, and is writable.
Status check_output_dir(const std::string& path, const std::string& flag);

}  // namespace xfed
