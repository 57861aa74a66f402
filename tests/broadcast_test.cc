// The downlink's frames, read as a worker reads them: the steps since a version a client
// holds, the seeded start, the full model; their exact bytes; and that whoever applies them
// lands bit for bit on the coordinator's view.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "compression/index_coding.h"
#include "compression/state_codec.h"
#include "coordinator/broadcast.h"
#include "core/model.h"
#include "core/model_spec.h"
#include "core/model_state.h"

namespace xfed::coordinator {
namespace {

using protocol::FrameKind;

StateLayout two_tensors() {
  StateLayout l;
  l.add("w", {1000}, false);
  l.add("b", {10}, false);
  return l;
}

compression::Pipeline pipeline(const std::string& spec) {
  return compression::Pipeline::parse(spec, "--downlink").value();
}

Bytes task_bytes() {
  Bytes b;
  ByteWriter w(&b);
  protocol::TrainTask{}.write(w);
  return b;
}

struct Read {
  FrameKind kind = FrameKind::kModel;
  size_t payload_bytes = 0;
  int64_t base = -1;
  int64_t steps = 0;
  at::Tensor view;
};

// What a worker that holds `held` (version `held_version`) makes of a frame: the steps past
// its version, one after the other. A seeded frame is read from `seeded` when given.
Read read_frame(Bytes bytes, const StateLayout& layout, at::Tensor held, int64_t held_version,
                at::Tensor seeded = {}) {
  auto frame = protocol::decode_frame(std::move(bytes));
  EXPECT_TRUE(frame) << frame.message();
  const auto& h = frame.value().header;
  Read out;
  out.kind = h.kind;
  out.payload_bytes = frame.value().payload_size;
  auto r = frame.value().payload_reader();
  protocol::TrainTask task;
  EXPECT_TRUE(task.read(r));
  auto view = held.defined() ? held.clone() : at::Tensor();
  if (h.kind == FrameKind::kModel) {
    std::string spec;
    EXPECT_TRUE(r.get_string(&spec));
    out.view = at::empty({layout.total}, at::kFloat);
    EXPECT_TRUE(compression::decode_state(r, layout, h.codecs, out.view.data_ptr<float>()));
    return out;
  }
  uint32_t base;
  if (h.kind == FrameKind::kSeededModel) {
    std::string spec;
    uint64_t seed;
    uint32_t crc;
    EXPECT_TRUE(r.get_string(&spec) && r.get_u64(&seed) && r.get_u32(&crc));
    EXPECT_EQ(crc, state_crc(seeded));
    view = seeded.clone();
  }
  EXPECT_TRUE(r.get_u32(&base));
  out.base = base;
  if (h.kind == FrameKind::kSeededModel) held_version = base;
  auto step = at::empty({layout.total}, at::kFloat);
  for (int64_t v = base + 1; v <= h.model_version; ++v, ++out.steps) {
    EXPECT_TRUE(compression::decode_next_state(r, layout, h.codecs, step.data_ptr<float>()));
    if (v > held_version) view = view + step;
  }
  EXPECT_TRUE(r.done());
  out.view = view;
  return out;
}

// A broadcaster whose view is `global`, advanced once (version 1); client c is on rank c + 1
// and both hold version 1.
Broadcaster holding_version_1(const std::string& downlink, int clients, const at::Tensor& global,
                              const StateLayout& layout) {
  Broadcaster b(pipeline(downlink), clients + 1, clients);
  b.reset(global, 0);
  b.advance(global, layout, 1);
  for (int c = 0; c < clients; ++c) b.mark_sent(c, c + 1);
  return b;
}

Bytes frame(Broadcaster& b, int64_t client, int rank, const StateLayout& layout,
            DownloadKind* kind = nullptr) {
  return b.frame_for(client, rank, 1, protocol::TrainTask{}, "{}", layout, kind);
}

// A client one version behind gets the round's aggregate as it is: here the global model
// moved at w[3], w[10], w[500] and b[7] (dyadic values: every sum is exact).
TEST(Broadcaster, OneVersionBehindGetsTheAggregateInExactBytes) {
  const auto layout = two_tensors();
  const auto start = (at::arange(layout.total, at::kFloat).remainder(17) / 8).contiguous();
  Broadcaster b(pipeline("nonzero"), 2, 1);
  b.reset(start, 0);
  b.advance(start, layout, 1);
  DownloadKind kind;
  auto first = read_frame(frame(b, 0, 1, layout, &kind), layout, {}, -1);
  EXPECT_EQ(kind, DownloadKind::kFull);
  EXPECT_TRUE(at::equal(first.view, start));
  b.mark_sent(0, 1);

  auto global = start.clone();
  global[3] += 0.5;
  global[10] -= 0.25;
  global[500] += 2;
  global[1007] += 1;  // b[7]
  b.advance(global, layout, 2);
  const auto got = read_frame(frame(b, 0, 1, layout, &kind), layout, first.view, 1);
  EXPECT_EQ(kind, DownloadKind::kDelta);
  EXPECT_EQ(got.steps, 1);
  EXPECT_TRUE(at::equal(got.view, global));
  EXPECT_TRUE(at::equal(b.view(), global));
  // Bytes by hand. State: descriptor (count, kNonzero) 2 + tensor count 1
  //   w: numel 1000 (varint 2) + k+1 = 4 (1) + indices 5 + 3 floats 12           = 20
  //      indices as delta-varint: coding byte, gaps 3, 6, 489 (1 + 1 + 2 bytes)
  //   b: numel 10 (1) + k+1 = 2 (1) + indices 2 (coding byte, gap 7) + 1 float 4  =  8
  EXPECT_EQ(compression::delta_varint_size({3, 10, 500}), 5u);
  EXPECT_LT(5u, compression::rice_size({3, 10, 500}, compression::rice_parameter({3, 10, 500}, 1000)));
  const size_t state = 2 + 1 + 20 + 8;
  EXPECT_EQ(got.payload_bytes, task_bytes().size() + 4 + state);
}

// Steps are applied one after the other, as the coordinator did: a client away for rounds
// (and its rank with it) lands on the view bit for bit, with a lossy code in between; a rank
// that is further on than its client skips what it has.
TEST(Broadcaster, AClientAwayForRoundsGetsEveryStepSince) {
  const auto layout = two_tensors();
  auto global = at::randn({layout.total}, at::kFloat);
  auto b = holding_version_1("nonzero,qsgd:4,zstd", 2, global, layout);
  const auto at_1 = b.view().clone();
  at::Tensor rank1_view = at_1;
  for (int round = 2; round <= 5; ++round) {
    auto change = at::zeros({layout.total});
    change.narrow(0, 37 * round, 20).copy_(at::randn({20}));
    global = global + change;
    b.advance(global, layout, round);
    rank1_view = read_frame(frame(b, 0, 1, layout), layout, rank1_view, round - 1).view;
    b.mark_sent(0, 1);
    EXPECT_TRUE(at::equal(rank1_view, b.view())) << "round " << round;
  }
  DownloadKind kind;
  const auto away = read_frame(frame(b, 1, 2, layout, &kind), layout, at_1, 1);
  EXPECT_EQ(kind, DownloadKind::kDelta);
  EXPECT_EQ(away.base, 1);
  EXPECT_EQ(away.steps, 4);
  EXPECT_TRUE(at::equal(away.view, b.view()));
  EXPECT_FALSE(at::equal(b.view(), global)) << "qsgd:4 leaves a residual for later rounds";
  // Client 1 on rank 1, which holds version 5 already: the frame starts at the client's
  // version; rank 1 applies nothing and stays on the view.
  const auto on_rank1 = read_frame(frame(b, 1, 1, layout), layout, rank1_view, 5);
  EXPECT_EQ(on_rank1.steps, 4);
  EXPECT_TRUE(at::equal(on_rank1.view, b.view()));
}

// Steps that together outweigh the model are not worth sending: the full view goes instead.
TEST(Broadcaster, StepsHeavierThanTheModelGiveWayToTheFullModel) {
  const auto layout = two_tensors();
  auto global = at::randn({layout.total}, at::kFloat);
  auto b = holding_version_1("nonzero", 1, global, layout);
  global = global + at::randn({layout.total});  // every entry moves: a step is a dense model
  b.advance(global, layout, 2);
  DownloadKind kind;
  const auto got = read_frame(frame(b, 0, 1, layout, &kind), layout, {}, -1);
  EXPECT_EQ(kind, DownloadKind::kFull);
  EXPECT_TRUE(at::equal(got.view, b.view()));
}

// A client with no model builds the initial one from its seed and applies the steps since;
// once a seeded task failed on a rank (another build), that rank gets full models.
TEST(Broadcaster, SeededStartThenStepsAndFullAfterAFailure) {
  const auto spec = make_spec("mlp", 1, 4, 4, 10, {8, 6}).value();
  const auto initial = read_state(*make_initial_model(spec, 7));
  const auto layout = layout_of(*make_model(spec));
  Broadcaster b(pipeline("nonzero,fp16"), 3, 3);
  b.reset(initial, 0);
  b.set_seed_start(7);
  b.advance(initial, layout, 1);
  DownloadKind kind;
  const auto first = read_frame(frame(b, 0, 1, layout, &kind), layout, {}, -1, initial);
  EXPECT_EQ(kind, DownloadKind::kSeeded);
  EXPECT_EQ(first.steps, 0) << "nothing moved in round 1: the seed is the view";
  EXPECT_TRUE(at::equal(first.view, b.view()));
  b.mark_sent(0, 1);

  auto global = initial.clone();
  global.narrow(0, 5, 3).add_(0.125);
  b.advance(global, layout, 2);
  const auto late = read_frame(frame(b, 1, 2, layout, &kind), layout, {}, -1, initial);
  EXPECT_EQ(kind, DownloadKind::kSeeded);
  EXPECT_EQ(late.steps, 1);
  EXPECT_TRUE(at::equal(late.view, b.view()));
  EXPECT_TRUE(at::equal(read_frame(frame(b, 0, 1, layout, &kind), layout, first.view, 1).view, b.view()));
  EXPECT_EQ(kind, DownloadKind::kDelta);

  b.task_failed(2);  // the seeded task on rank 2 failed
  const auto full = read_frame(frame(b, 2, 2, layout, &kind), layout, {}, -1);
  EXPECT_EQ(kind, DownloadKind::kFull);
  EXPECT_TRUE(at::equal(full.view, b.view()));
  frame(b, 2, 1, layout, &kind);
  EXPECT_EQ(kind, DownloadKind::kSeeded) << "rank 1 still builds from the seed";
}

}  // namespace
}  // namespace xfed::coordinator
