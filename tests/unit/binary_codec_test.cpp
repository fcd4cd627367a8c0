// The direct binary codec (src/transport/binary_codec.cpp) held to the cereal reference:
// byte-identical encodings, and on thousands of mutated inputs the same verdict, the same
// decoded snapshot, and errors naming the same field.
#include "snapshot_cereal.hpp"  // first: DecodeError, and cereal's RAPIDJSON_ASSERT

#include "binary_codec.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "sluice/snapshot_generator.hpp"
#include "sluice/snapshot_io.hpp"

namespace sluice {
namespace {

Snapshot sample(std::uint64_t seed, double running) {
  SnapshotGenParams p;
  p.machines = 50;
  p.tasks = 400;
  p.running_share = running;
  p.constrained_share = 0.5;
  p.preference_share = 0.5;
  p.seed = seed;
  Snapshot s = generate_snapshot(p);
  s.machines[0].extra_capacity["ssd_gib"] = 100;
  s.machines[0].extra_free["ssd_gib"] = 40;
  s.machines[1].labels["arch"] = "arm64";
  s.jobs[0].tasks[0].extra["ssd_gib"] = 10;
  s.jobs[0].tasks[0].selector["arch"] = "arm64";
  return s;
}

// The field path of an error: the text before the first ": ".
std::string path_of(const std::string& error) { return error.substr(0, error.find(": ")); }

TEST(BinaryCodec, EncodingsAreByteIdenticalToCereal) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const Snapshot s = sample(seed, seed % 2 == 0 ? 0.4 : 0.0);
    EXPECT_EQ(detail::encode_snapshot_binary(s), detail::encode_snapshot_cereal_binary(s)) << "seed " << seed;
  }
}

TEST(BinaryCodec, MutatedInputsGetTheSameVerdictAsCereal) {
  const std::string valid = detail::encode_snapshot_binary(sample(9, 0.3));
  std::mt19937_64 rng(2024);
  SnapshotLimits limits;
  limits.max_string_bytes = 1 << 16;
  int both_ok = 0, both_failed = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bytes = valid;
    const int kind = trial % 3;
    if (kind == 0) {  // flip a few bytes
      for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    } else if (kind == 1) {  // truncate
      bytes.resize(rng() % bytes.size());
    } else {  // overwrite 8 bytes with a length-like value
      const std::size_t at = rng() % (bytes.size() - 8);
      const std::uint64_t v = rng() % 4 == 0 ? rng() : rng() % 1000;
      std::memcpy(bytes.data() + at, &v, 8);
    }
    Snapshot fast;
    std::string fast_error;
    try {
      detail::decode_snapshot_binary(bytes, limits, fast);
    } catch (const detail::DecodeError& e) {
      fast_error = e.text();
    }
    const SnapshotDecodeResult ref = detail::decode_snapshot_cereal_binary(bytes, limits);
    ASSERT_EQ(fast_error.empty(), ref.ok) << "trial " << trial << ": fast '" << fast_error << "' vs cereal '"
                                          << ref.error << "'";
    if (ref.ok) {
      ++both_ok;
      EXPECT_EQ(detail::encode_snapshot_binary(fast), detail::encode_snapshot_binary(ref.snapshot)) << trial;
    } else {
      ++both_failed;
      EXPECT_EQ(path_of(fast_error), path_of(ref.error)) << "trial " << trial << ": fast '" << fast_error
                                                         << "' vs cereal '" << ref.error << "'";
    }
  }
  EXPECT_GT(both_ok, 100);
  EXPECT_GT(both_failed, 1000);
}

TEST(BinaryCodec, ReadsBigEndianInput) {
  // The same snapshot as a big-endian writer would send it: every integer byte-swapped.
  Snapshot s;
  s.version = 0x0102030405060708LL;
  s.time = 7;
  Machine m;
  m.id = "m";
  m.rack = "r";
  m.zone = "z";
  m.cpu_milli = m.free_cpu_milli = 1000;
  m.memory_mib = m.free_memory_mib = 2048;
  s.machines.push_back(m);
  const std::string little = detail::encode_snapshot_binary(s);
  std::string big;
  big.push_back('\0');
  auto put_be = [&big](std::uint64_t v, int size) {
    for (int i = size - 1; i >= 0; --i) big.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  put_be(1, 4);
  put_be(static_cast<std::uint64_t>(s.version), 8);
  put_be(7, 8);
  put_be(1, 8);  // one machine
  for (const char* str : {"m", "r", "z"}) {
    put_be(1, 8);
    big += str;
  }
  for (const std::uint64_t v : {1000, 2048, 1000, 2048}) put_be(v, 8);
  for (int i = 0; i < 4; ++i) put_be(0, 8);  // gpus, extra_capacity, extra_free, labels
  put_be(0, 8);                               // jobs
  Snapshot decoded;
  detail::decode_snapshot_binary(big, SnapshotLimits{}, decoded);
  EXPECT_EQ(detail::encode_snapshot_binary(decoded), little);
}

TEST(BinaryCodec, AllocationsRoundTrip) {
  AllocateOptions o;
  o.solve.backend = Backend::kCpu;
  o.solve.verify = true;
  const Allocation a = allocate(sample(3, 0.4), o);
  ASSERT_EQ(a.status, Status::kOptimal);
  const std::string bytes = detail::encode_allocation_binary(a);
  Allocation b;
  detail::decode_allocation_binary(bytes, SnapshotLimits{}, b);
  EXPECT_EQ(detail::encode_allocation_binary(b), bytes);
  EXPECT_EQ(b.placements.size(), a.placements.size());
  EXPECT_EQ(b.objective, a.objective);
  ASSERT_TRUE(b.certificate.has_value());
  EXPECT_TRUE(b.certificate->valid());
}

}  // namespace
}  // namespace sluice

// The input view the JSON decoder reads through (snapshot_cereal.hpp): chunked, it hands
// out every byte while the cancel flag is down, and ends the input at the next chunk once
// it is raised, saying so.
namespace sluice {
namespace {

TEST(InputView, ChunkedViewEndsAtTheNextChunkOnceCancelled) {
  std::string text(10'000, 'a');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  std::atomic<bool> cancel{false};
  {
    detail::InputView view(text, 1024, &cancel);
    std::istream in(&view);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(all, text);
    EXPECT_FALSE(view.cancelled());
  }
  detail::InputView view(text, 1024, &cancel);
  std::istream in(&view);
  std::string first(1024, '\0');
  in.read(first.data(), 1024);
  EXPECT_EQ(first, text.substr(0, 1024));
  cancel = true;
  char c = 0;
  EXPECT_FALSE(in.get(c));  // the next chunk is not handed out
  EXPECT_TRUE(view.cancelled());
}

}  // namespace
}  // namespace sluice
