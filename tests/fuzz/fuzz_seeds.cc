// Writes the fuzz targets' seed corpora: valid examples of every decoder's input, made by
// the real encoders (so the fuzzer starts from inputs that reach deep into each decoder).
//   fuzz_seeds DIR   ->   DIR/<target>/seed_<n>
#include <ATen/ATen.h>
#include <zlib.h>

#include <filesystem>
#include <functional>
#include <map>
#include <fstream>
#include <iostream>

#include "compression/huffman.h"
#include "compression/state_codec.h"
#include "coordinator/checkpoint.h"
#include "coordinator/model_file.h"
#include "core/file_io.h"
#include "core/model_state.h"
#include "deploy/export_compact.h"
#include "deploy/xdc_file.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/secagg_messages.h"
#include "pruning/evidence.h"
#include "pruning/structure_plan.h"
#include "tests/sample_state.h"
#include "worker/error_feedback.h"
#include "xfed/config.h"
#define XFED_EXAMPLE_NO_MAIN  // the ternary stage, for fuzz_ternary's seeds
#include "examples/ternary_stage.cc"
#if XFED_HAVE_ZMQ
#include "app/edge_admission.h"
#include "transport/zmq/chunks.h"
#include "transport/zmq/greeting.h"
#endif

namespace fs = std::filesystem;
using namespace xfed;

namespace {

fs::path g_root;

void seed(const std::string& target, int n, const Bytes& bytes) {
  fs::create_directories(g_root / target);
  std::ofstream out(g_root / target / ("seed_" + std::to_string(n)), std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Bytes text_seed(uint8_t first, const std::string& text) {
  Bytes b{first};
  b.insert(b.end(), text.begin(), text.end());
  return b;
}

const char* const kPipelines[] = {"none", "fp16", "topk:0.3,qsgd:4,zstd:3", "threshold:0.01,sign", "randk:0.5,uniform:3:16"};

// A state of 100 + 7 values encoded with `p`, as decode_state_input.h reads it.
Bytes state_input(const compression::Pipeline& p, Bytes* payload) {
  StateLayout layout;
  layout.add("w", {100}, false);
  layout.add("b", {7}, false);
  std::vector<float> values(107);
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(static_cast<float>(i));
  (void)compression::encode_state(layout, values.data(), p, 1, payload);
  Bytes head;
  ByteWriter w(&head);
  const auto ids = p.codec_ids();
  w.put_u8(static_cast<uint8_t>(ids.size()));
  for (auto id : ids) w.put_u8(static_cast<uint8_t>(id));
  w.put_u16(99);
  w.put_u16(7);
  head.insert(head.end(), payload->begin(), payload->end());
  return head;
}

void frames_and_pipelines() {
  int n = 0;
  for (const char* spec : kPipelines) {
    const auto p = compression::Pipeline::parse(spec).value();
    Bytes payload;
    seed("pipeline", n, state_input(p, &payload));
    const auto ids = p.codec_ids();
    protocol::FrameHeader h{protocol::FrameKind::kUpdate, 3, 1, 2, 4, ids};
    seed("frame", n, protocol::encode_frame(h, payload));
    protocol::TrainTask task;
    task.uplink = p;
    Bytes t;
    ByteWriter tw(&t);
    task.write(tw);
    seed("messages", n++, t);
  }
  Bytes f;
  ByteWriter fw(&f);
  protocol::TaskFailure{protocol::FailureKind::kDiverged, "loss nan"}.write(fw);
  seed("messages", n++, f);
  Bytes m;
  ByteWriter mw(&m);
  protocol::UpdateMeta{600, 0.5f, 1, 2, 3, 0xabcdef}.write(mw);
  seed("messages", n++, m);
  Bytes c;
  ByteWriter cw(&c);
  protocol::ControlMessage{protocol::ControlCommand::kClientStateSaved, "disk full"}.write(cw);
  seed("messages", n++, c);
  Bytes check;
  ByteWriter kw(&check);
  protocol::ControlMessage{protocol::ControlCommand::kCheckConfig, "--dataset=synthetic\n--lr=0.05\n"}.write(kw);
  seed("messages", n++, check);
  Bytes code;  // a digest and bytes that match it (not a real archive: the decoder checks the digest only)
  ByteWriter codew(&code);
  protocol::ModelCode{std::make_shared<const std::string>("PK\x03\x04 an archive's first bytes")}.write(codew);
  seed("messages", n++, code);
  Bytes secure;  // a task with --secure-aggregation's block (and distributed --dp's share)
  ByteWriter sw(&secure);
  protocol::TrainTask task;
  task.uplink = compression::Pipeline::parse("randk:0.01").value();
  task.secagg = protocol::SecAggTask{14, 8, 0.1, 8, 15, 1.0, 0.3};
  task.write(sw);
  seed("messages", n, secure);
}

// A real SecAgg+ round of 6 clients (fuzz_secagg's bounds: 300 clients, 64 values, a ring of
// 20 bits): every message kind as it travels.
void secagg_messages() {
  secagg::RoundParams params;
  params.numbers = secagg::FixedPoint{1.0, 12, 20};
  params.length = 64;
  std::map<int64_t, secagg::ClientSession> clients;
  secagg::CoordinatorSession coordinator(params);
  for (int64_t c = 0; c < 6; ++c) coordinator.take_advert(clients.emplace(c, secagg::ClientSession(c, params)).first->second.advertise());
  int n = 0;
  auto put = [&](const std::function<void(ByteWriter&)>& write) {
    Bytes b;
    ByteWriter w(&b);
    write(w);
    seed("secagg", n++, b);
  };
  put([&](ByteWriter& w) { protocol::write_adverts(w, coordinator.adverts()); });
  for (auto& [id, c] : clients) {
    const auto shares = c.share_keys(coordinator.adverts()).value();
    if (id == 0) put([&](ByteWriter& w) { protocol::write_sealed_shares(w, shares); });
    coordinator.take_shares(shares);
  }
  for (auto& [id, c] : clients) {
    const auto masked = c.mask(coordinator.shares_for(id), std::vector<float>(64, 0.25f)).value();
    if (id == 0) put([&](ByteWriter& w) { protocol::write_masked_input(w, masked, 20); });
    if (id != 5) coordinator.take_masked(masked);
  }
  const auto request = coordinator.unmask_request();
  put([&](ByteWriter& w) { protocol::write_unmask_request(w, request); });
  const auto reply = clients.at(0).unmask(request).value();
  put([&](ByteWriter& w) { protocol::write_unmask_reply(w, reply); });
}

void files() {
  auto net = testing::tiny_model();
  const auto tmp = fs::temp_directory_path() / ("xfed_seeds_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  (void)coordinator::save_model_file((tmp / "m.model").string(), *net);
  seed("model_file", 0, read_file_bytes((tmp / "m.model").string()).value());
  (void)coordinator::save_checkpoint(tmp.string(), testing::sample_checkpoint(*net));
  seed("checkpoint", 0, read_file_bytes(coordinator::checkpoint_path(tmp.string())).value());
  fs::remove_all(tmp);
  worker::ClientStateStore store;
  testing::fill_sample_clients(store);
  seed("client_state", 0, store.serialize());
}

void plans_and_stats() {
  const auto net = testing::tiny_model();
  pruning::StructurePlan plan{1, net->spec(), {{0, 2, 5, 7, 9, 15}, {1, 3, 4, 7}, {0, 1, 3}}, {}};
  Bytes p{1};
  ByteWriter pw(&p);
  plan.write(pw);
  seed("plan", 0, p);
  plan.patches = {{"layers.1.bias", {0.5f, -1.f, 2.f, 0.f}}};
  Bytes refit{1};
  ByteWriter rw(&refit);
  plan.write(rw);
  seed("plan", 2, refit);
  pruning::Evidence ev;
  at::manual_seed(2);
  for (int64_t units : {8, 4, 16}) {
    auto stats = pruning::ClassStats::zeros(units, 10);
    stats.accumulate(at::randn({30, units}, at::kDouble), at::randint(0, 10, {30}, at::kLong));
    ev.taps.push_back(stats);
  }
  Bytes e{0};
  ByteWriter ew(&e);
  ev.write(ew);
  seed("plan", 1, e);
}

// Edge transport: u16-length-prefixed chunks of one frame, then an authorized-keys text.
void edge() {
#if XFED_HAVE_ZMQ
  Bytes frame(3000);
  for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<uint8_t>(i * 7);
  Bytes chunks;
  for (size_t offset : {size_t{0}, size_t{1000}}) {
    const Bytes c = transport::make_chunk(frame, offset);
    chunks.push_back(static_cast<uint8_t>(c.size() & 0xff));
    chunks.push_back(static_cast<uint8_t>(c.size() >> 8));
    chunks.insert(chunks.end(), c.begin(), c.end());
  }
  seed("edge", 0, chunks);
  const std::string keys = "# fleet\n0N?AgNxl^4h^jC091vIrenig^M4XF@s&B2&cap.#  phone\n\n";
  seed("edge", 1, Bytes(keys.begin(), keys.end()));
  const auto introduction = app::encode_introduction({{0, 3, 7}, "--lr=0.05\n"});
  seed("edge", 2, transport::encode_hello({"0N?AgNxl^4h^jC091vIrenig^M4XF@s&B2&cap.#", introduction}));
  seed("edge", 3, transport::encode_welcome({2, 5}));
  const auto wants_code = app::encode_introduction({{}, "--model=torchscript sha256=*\n", true});
  seed("edge", 4, transport::encode_hello({"0N?AgNxl^4h^jC091vIrenig^M4XF@s&B2&cap.#", wants_code}));
#endif
}

void configs() {
  seed("config", 0, text_seed(0, "rounds = 5\nlr = 0.05\npartition = \"shards:2\"\nquiet = false\n"
                                 "compress = \"topk:0.01,qsgd:4\"\nseed = 7\n"));
  seed("config", 1, text_seed(1, R"({"rounds": 5, "strategy": "fedavgm", "resume": false, "widths": [16, 8]})"));
}

void datasets() {
  Bytes idx{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3};
  for (int i = 0; i < 18; ++i) idx.push_back(static_cast<uint8_t>(i * 13));
  seed("idx", 0, idx);
  Bytes labels{0, 0, 8, 1, 0, 0, 0, 4, 1, 7, 3, 9};
  seed("idx", 1, labels);
  const auto gz = fs::temp_directory_path() / ("xfed_seeds_" + std::to_string(::getpid()) + ".gz");
  gzFile f = gzopen(gz.c_str(), "wb");
  gzwrite(f, idx.data(), static_cast<unsigned>(idx.size()));
  gzclose(f);
  seed("idx", 2, read_file_bytes(gz.string()).value());
  fs::remove(gz);
  Bytes cifar;
  for (int r = 0; r < 2; ++r) {
    cifar.push_back(static_cast<uint8_t>(r * 7));
    for (int i = 0; i < 3072; ++i) cifar.push_back(static_cast<uint8_t>(i + r));
  }
  seed("cifar", 0, cifar);
}

void user_stage() {
  if (!register_ternary()) std::exit(1);
  int n = 0;
  for (const char* spec : {"ternary", "topk:0.3,ternary,zstd:3", "nonzero,ternary"}) {
    Bytes payload;
    seed("ternary", n++, state_input(compression::Pipeline::parse(spec).value(), &payload));
  }
}

// Huffman streams as fuzz_huffman reads them: u8 n, n lengths, u16 count, the bits.
void huffman_streams() {
  const std::vector<std::vector<uint64_t>> counts = {{45, 13, 12, 16, 9, 5}, {0, 7, 0}, {1, 1, 2, 3, 5, 8, 13, 21, 34}};
  int n = 0;
  for (const auto& c : counts) {
    const auto lengths = compression::huffman_lengths(c).value();
    std::vector<uint32_t> symbols;
    for (size_t s = 0; s < c.size(); ++s)
      for (uint64_t k = 0; k < c[s]; ++k) symbols.push_back(static_cast<uint32_t>(s));
    Bytes b{static_cast<uint8_t>(lengths.size())};
    b.insert(b.end(), lengths.begin(), lengths.end());
    b.push_back(static_cast<uint8_t>(symbols.size()));
    b.push_back(static_cast<uint8_t>(symbols.size() >> 8));
    compression::huffman_encode(symbols, lengths, &b);
    seed("huffman", n++, b);
  }
}

// Small .xdc files in every format: an mlp with pruned inputs and a LeNet-5 on 16x16 inputs,
// weights from a few shared values with zeros.
void xdc_files() {
  auto mlp = make_spec("mlp", 1, 6, 6, 3, {5, 4}).value();
  mlp.input_kept = {0, 2, 3, 7, 11, 12, 20, 35};
  const auto lenet = make_spec("lenet5", 1, 16, 16, 3, {2, 3, 4}).value();
  int n = 0;
  for (const auto& spec : {mlp, lenet}) {
    deploy::NamedArrays state;
    int i = 0;
    const auto chain = deploy::compact_chain(spec).value();
    for (const auto& l : chain) {
      for (int64_t k = 0; k < l.out * l.cols(); ++k) state[l.name + ".weight"].push_back(0.25f * static_cast<float>(i++ % 5 - 2));
      for (int64_t k = 0; k < l.out; ++k) state[l.name + ".bias"].push_back(0.01f * static_cast<float>(k));
    }
    for (auto f : deploy::kAllFormats)
      seed("xdc", n++, deploy::encode_xdc(deploy::build_compact(spec, state, {f, 0}).value()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds DIR\n";
    return 2;
  }
  g_root = argv[1];
  frames_and_pipelines();
  user_stage();
  secagg_messages();
  huffman_streams();
  xdc_files();
  files();
  plans_and_stats();
  configs();
  datasets();
  edge();
  return 0;
}
