// libFuzzer target: IDX files (MNIST, Fashion-MNIST), raw or gzip, through the real reader
// (a file per process, in memory under /dev/shm where there is one: the reader takes a path).
#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/idx_reader.h"

namespace {

// The scratch file, removed when the fuzzer exits.
struct ScratchFile {
  std::string path = std::string(::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                     "/xfed_fuzz_idx_" + std::to_string(::getpid());
  ~ScratchFile() { ::unlink(path.c_str()); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ScratchFile scratch;
  const std::string& path = scratch.path;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  (void)xfed::read_idx(path);
  return 0;
}
