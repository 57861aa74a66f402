// Every strict prefix of a valid frame, checkpoint, clients' state, structure plan and saved
// model is refused with an error, never a crash (leveldb's log-reader style); the whole input
// is accepted. Truncation is what a crash mid-write or a cut connection produces.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "coordinator/checkpoint.h"
#include "coordinator/model_file.h"
#include "core/file_io.h"
#include "core/model_state.h"
#include "protocol/frame.h"
#include "pruning/structure_plan.h"
#include "tests/sample_state.h"
#include "tests/test_util.h"
#include "worker/error_feedback.h"

namespace xfed {
namespace {

template <typename Decode>
void expect_every_prefix_refused(const Bytes& whole, const Decode& decode, const char* what) {
  ASSERT_TRUE(decode(whole)) << what << ": the whole input";
  for (size_t n = 0; n < whole.size(); ++n)
    ASSERT_FALSE(decode(Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n))))
        << what << ": prefix of " << n << " of " << whole.size() << " bytes was accepted";
}

// The same, where the decoder says why: every prefix is corruption, never another kind.
template <typename Decode>
void expect_every_prefix_corrupt(const Bytes& whole, const Decode& decode, const char* what) {
  ASSERT_TRUE(decode(whole).is_ok()) << what << ": the whole input";
  for (size_t n = 0; n < whole.size(); ++n)
    ASSERT_EQ(decode(Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n))).code(),
              StatusCode::kCorruption)
        << what << ": prefix of " << n << " of " << whole.size() << " bytes";
}

TEST(Prefixes, FramesAreRefusedAsCorruption) {
  protocol::FrameHeader h{protocol::FrameKind::kUpdate, 3, 1, 2, 4,
                             {protocol::CodecId::kTopK, protocol::CodecId::kQsgd}};
  const Bytes payload{1, 2, 3, 4, 5, 6, 7, 8, 9};
  expect_every_prefix_corrupt(protocol::encode_frame(h, payload),
                              [](Bytes b) { return protocol::decode_frame(std::move(b)); }, "frame");
}

TEST(Prefixes, SavedModelsAreRefusedAsCorruption) {
  testing::TempDir dir;
  auto net = testing::tiny_model();
  ASSERT_TRUE(coordinator::save_model_file(dir.file("m.model"), *net));
  expect_every_prefix_corrupt(read_file_bytes(dir.file("m.model")).value(),
                              [](Bytes b) { return coordinator::decode_model_file(std::move(b), "m"); },
                              "saved model");
}

TEST(Prefixes, CheckpointsAreRefusedAsCorruption) {
  testing::TempDir dir;
  auto net = testing::tiny_model();
  ASSERT_TRUE(coordinator::save_checkpoint(dir.path(), testing::sample_checkpoint(*net)));
  expect_every_prefix_corrupt(read_file_bytes(coordinator::checkpoint_path(dir.path())).value(),
                              [](Bytes b) { return coordinator::decode_checkpoint(std::move(b), "c"); },
                              "checkpoint");
}

TEST(Prefixes, ClientStatesAreRefused) {
  worker::ClientStateStore store;
  testing::fill_sample_clients(store);
  expect_every_prefix_refused(store.serialize(), [](const Bytes& b) {
    ByteReader r(b);
    worker::ClientStateStore s;
    return s.restore(r).is_ok();
  }, "clients' state");
}

TEST(Prefixes, StructurePlansAreRefused) {
  const auto net = testing::tiny_model();
  pruning::StructurePlan plan{1, net->spec(), {{0, 2, 5, 7, 9, 15}, {1, 3, 4, 7}, {0, 1, 3}}, {}};
  Bytes b;
  ByteWriter w(&b);
  plan.write(w);
  expect_every_prefix_refused(b, [](const Bytes& bytes) {
    ByteReader r(bytes);
    auto p = pruning::StructurePlan::read(r);
    return p.is_ok() && r.done();
  }, "structure plan");
}

}  // namespace
}  // namespace xfed
