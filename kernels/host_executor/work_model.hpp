// Work model of the GPU solver: what the host executor counts while it runs the kernels'
// steps (launches, threads, arcs scanned, host synchronisations, transfers), and a
// projected device time from it. A projection, not a measurement: the constants below are
// stated so a run on a device can check them (bench/results/gpu_projection/).
//
// Bytes per launch = threads × node bytes + arcs scanned × arc bytes of its kind. A
// neighbour's label or price is a random 8-byte read, charged as one 32-byte sector; the
// CSR arrays of an active node are read in order. Time per launch = launch latency +
// bytes ÷ (peak bandwidth × efficiency), additive (a short launch does not overlap the
// next, since each round's continuation is decided on the host). Each round also pays one
// device-to-host read of the frontier size.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sluice::detail {

enum class LaunchKind : int {
  kSaturate = 0,  // saturate_step over all nodes
  kSelect,        // frontier compaction (DeviceSelect::Flagged), per call
  kRelabel,       // cost-scaling relabel phase over the active list
  kPush,          // cost-scaling push phase over the active list
  kMaxFlowRelabel,
  kMaxFlowPush,
  kRelax,         // one distance sweep (price update / global relabel) over a frontier
  kApplyPrices,   // p -= ε·d over all nodes
  kTighten,       // one price-tightening sweep (refinement / optimality test)
  kFixArcs,       // arc fixing over all nodes
  kCount
};

constexpr std::array<std::string_view, static_cast<int>(LaunchKind::kCount)> kLaunchNames = {
    "saturate", "select", "relabel", "push", "maxflow_relabel", "maxflow_push", "relax", "apply_prices", "tighten",
    "fix_arcs"};

// Bytes a thread reads or writes for its node, and per arc it scans, by launch kind.
struct KindBytes {
  double node = 0;
  double arc = 0;
};
// node: first[v..v+1] 8 + excess 8 + own price/label 8 (+ a write where the step writes).
// arc: head 4 + rescap 8 + cost 8 + fixed flag 1 + one random neighbour read (32-byte
// sector); relax and tighten also read rev (4) and write a flag on success.
constexpr std::array<KindBytes, static_cast<int>(LaunchKind::kCount)> kBytesPerKind = {{
    {24, 21},      // saturate: no neighbour read unless the arc is residual, then 32 + atomics
    {0, 0},        // select: counted from its tiles (select_host.hpp)
    {32, 53},      // relabel
    {24, 53},      // push (+ atomics counted per push)
    {24, 44},      // max-flow relabel: no cost
    {24, 44},      // max-flow push
    {16, 57},      // relax
    {24, 0},       // apply prices
    {16, 53},      // tighten
    {24, 53},      // fix arcs
}};

struct LaunchTally {
  std::int64_t launches = 0;
  std::int64_t threads = 0;
  std::int64_t arcs = 0;
  std::int64_t extra_bytes = 0;  // atomics, compaction
};

struct WorkTally {
  std::array<LaunchTally, static_cast<int>(LaunchKind::kCount)> kinds{};
  std::int64_t host_syncs = 0;      // small device-to-host reads that decide the next launch
  std::int64_t transfer_bytes = 0;  // graph to the device, flow and prices back

  void launch(LaunchKind k, std::int64_t threads, std::int64_t arcs, std::int64_t extra_bytes = 0) {
    LaunchTally& t = kinds[static_cast<std::size_t>(k)];
    ++t.launches;
    t.threads += threads;
    t.arcs += arcs;
    t.extra_bytes += extra_bytes;
  }
  [[nodiscard]] std::int64_t launches() const {
    std::int64_t s = 0;
    for (const LaunchTally& t : kinds) s += t.launches;
    return s;
  }
  [[nodiscard]] double bytes(LaunchKind k) const {
    const LaunchTally& t = kinds[static_cast<std::size_t>(k)];
    const KindBytes& b = kBytesPerKind[static_cast<std::size_t>(k)];
    return static_cast<double>(t.threads) * b.node + static_cast<double>(t.arcs) * b.arc +
           static_cast<double>(t.extra_bytes);
  }
  [[nodiscard]] double bytes() const {
    double s = 0;
    for (int k = 0; k < static_cast<int>(LaunchKind::kCount); ++k) s += bytes(static_cast<LaunchKind>(k));
    return s;
  }
};

// The device the projection is for. Defaults: an H100 SXM5 80 GB as published (HBM3 3.35
// TB/s; PCIe gen5 x16 64 GB/s per direction) with assumed fractions reached by this
// access pattern, and launch and synchronisation latencies typical of CUDA 12 on Hopper.
struct DeviceConstants {
  std::string_view name = "H100 SXM5 (projected)";
  double bandwidth_bytes_per_s = 3.35e12;
  double bandwidth_efficiency = 0.5;  // random 8-byte gathers through 32-byte sectors, atomics
  double launch_s = 4e-6;             // back-to-back launch on one stream
  double sync_s = 10e-6;              // cudaMemcpy of a few bytes device -> host, round trip
  double transfer_bytes_per_s = 25e9; // pageable host memory over PCIe gen5, both ways
};

struct Projection {
  double launch_s = 0;
  double memory_s = 0;
  double sync_s = 0;
  double transfer_s = 0;
  [[nodiscard]] double total_s() const { return launch_s + memory_s + sync_s + transfer_s; }
  // The bandwidth floor: every byte once at peak bandwidth, no latency.
  double floor_s = 0;
};

[[nodiscard]] inline Projection project(const WorkTally& w, const DeviceConstants& c = {}) {
  Projection p;
  p.launch_s = static_cast<double>(w.launches()) * c.launch_s;
  p.memory_s = w.bytes() / (c.bandwidth_bytes_per_s * c.bandwidth_efficiency);
  p.sync_s = static_cast<double>(w.host_syncs) * c.sync_s;
  p.transfer_s = static_cast<double>(w.transfer_bytes) / c.transfer_bytes_per_s;
  p.floor_s = w.bytes() / c.bandwidth_bytes_per_s + p.transfer_s;
  return p;
}

}  // namespace sluice::detail
