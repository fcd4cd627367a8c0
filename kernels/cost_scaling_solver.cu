// Host loop of the GPU solver, the same phases as the host executor that validates it
// (host_executor/gpu_algorithm_host.hpp): push-relabel max flow for feasibility (with
// global relabels), then ε-scaling with costs × (n+1) and ε /= α; per phase arc fixing,
// price refinement, the refine (saturate, then rounds of compact -> relabel -> push with
// global price updates), the check of the fixed arcs, and the early optimality exit.
//
// Problem: min-cost flow on the residual graph. Invariants: valid heights in the max flow,
// ε-optimality after every round (see the steps' headers). Complexity: O(n^2) rounds per
// refine in the worst case; each round's continuation is decided by one small
// device-to-host copy of the frontier size (the work model counts these:
// bench/results/gpu_projection/).
// Follows: Goldberg & Tarjan 1988, 1990; Goldberg 1997; Hong 2008; He & Hong 2010.
//
// Every CUDA call is checked; a failure clears the sticky error and returns kBackendError
// naming the call. Launches do not synchronize unless SLUICE_CUDA_DEBUG_SYNC is defined.
#include <cuda_runtime.h>

#include <algorithm>
#include <cub/device/device_select.cuh>
#include <string>
#include <thrust/iterator/counting_iterator.h>
#include <vector>

#include "cost_scaling_gpu.hpp"
#include "cost_scaling_kernels.cuh"
#include "eps_scaling.hpp"
#include "residual_graph.hpp"

namespace sluice::cuda {
namespace {

// Owns one device allocation.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (ptr_ != nullptr) (void)cudaFree(ptr_);
  }
  cudaError_t allocate(std::size_t bytes) {
    bytes_ = bytes == 0 ? 1 : bytes;
    return cudaMalloc(&ptr_, bytes_);
  }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  std::size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// What the host reads back once per round, in one copy: the frontier size CUB wrote, the
// first step error, the relabels counted since the counter was reset, the tightening
// overflow flag.
struct RoundSlots {
  std::int32_t count;
  int overflow;
  DeviceError error;
  unsigned long long counter;
};

inline std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// One solve's device state and steps. Nothing throws: a step that fails fills `out` and
// returns false, and every caller passes the false up.
class DeviceSolver {
 public:
  DeviceSolver(detail::ResidualGraph& g, const CostScalingGpuParams& params, SolveOutcome& out)
      : g_(g), params_(params), out_(out) {}
  DeviceSolver(const DeviceSolver&) = delete;
  DeviceSolver& operator=(const DeviceSolver&) = delete;
  ~DeviceSolver() {
    if (start_ != nullptr) (void)cudaEventDestroy(start_);
    if (stop_ != nullptr) (void)cudaEventDestroy(stop_);
  }

  bool run() {
    const std::int32_t n = g_.n;
    const std::int64_t k = static_cast<std::int64_t>(n) + 1;
    if (!detail::scaled_costs_fit(g_.max_abs_cost, k)) {
      return status(Status::kCostOverflow, "max |cost| " + std::to_string(g_.max_abs_cost) +
                                               " times (n+1) exceeds 2^61");
    }
    if (!setup()) return false;
    if (params_.device_max_flow && !max_flow()) return false;

    detail::PhaseSwitches on;
    on.arc_fixing = params_.arc_fixing;
    on.price_refinement = params_.price_refinement;
    on.early_exit = params_.early_exit;
    detail::PhaseCounts counts;
    const bool ok = n == 0 || detail::run_eps_scaling(*this, g_.max_abs_cost * k, k, params_.alpha, on, counts);
    out_.phases = counts.phases;
    out_.skipped_phases = counts.skipped_phases;
    if (!ok) return false;
    return finish(k);
  }

 private:
  // The phase driver calls the steps (begin_phase, fix_arcs, refine_prices, free_violated,
  // refine, phase_done, prove_optimal).
  template <class Steps>
  friend bool detail::run_eps_scaling(Steps&, std::int64_t, std::int64_t, int, const detail::PhaseSwitches&,
                                      detail::PhaseCounts&);

  // ---- The steps run_eps_scaling (src/core/eps_scaling.hpp) drives. ----
  bool fix_arcs(std::int64_t prev_eps) {
    fix_arcs_kernel<<<grid(g_.n), block()>>>(view_, fixed_.as<std::uint8_t>(), detail::fixing_threshold(g_.n, prev_eps));
    return launched("fix_arcs_kernel");
  }
  bool begin_phase(std::int64_t /*eps*/) { return true; }
  bool phase_done(std::int64_t /*eps*/) { return true; }  // the executor checks ε-optimality here
  bool refine_prices(std::int64_t eps, bool& found) { return tighten(eps, found); }
  // Tightening with slack 0 settles only on an optimal flow (costs are scaled by n + 1).
  bool prove_optimal(std::int64_t /*eps*/, bool& optimal) { return tighten(0, optimal); }

  // ---- Buffers and copies. ----
  bool setup() {
    const std::size_t nz = static_cast<std::size_t>(g_.n);
    const std::size_t mz = static_cast<std::size_t>(g_.m2);
    if (!check(cudaSetDevice(params_.device), "cudaSetDevice")) return false;
    std::size_t free_bytes = 0, total_bytes = 0;
    if (!check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo")) return false;
    const std::int64_t need = device_bytes_needed(g_.n, g_.m2);
    if (need > static_cast<std::int64_t>(free_bytes)) {
      return status(Status::kBackendError, "the device has " + std::to_string(free_bytes >> 20) +
                                               " MiB free; this network needs about " +
                                               std::to_string(need >> 20) + " MiB");
    }
    std::vector<std::int64_t> scaled(g_.cost.size());
    const std::int64_t k = static_cast<std::int64_t>(g_.n) + 1;
    for (std::size_t e = 0; e < scaled.size(); ++e) scaled[e] = g_.cost[e] * k;
    const bool ok =
        alloc(first_, (nz + 1) * 4, "first") && alloc(head_, mz * 4, "head") && alloc(rev_, mz * 4, "rev") &&
        alloc(cost_, mz * 8, "cost") && alloc(rescap_, mz * 8, "rescap") && alloc(fixed_, mz, "fixed") &&
        alloc(excess_, nz * 8, "excess") && alloc(price_, nz * 8, "price") && alloc(label_, nz * 8, "labels") &&
        alloc(list_, nz * 4, "list") && alloc(flags_, nz, "flags") && alloc(slots_buffer_, sizeof(RoundSlots), "slots");
    if (!ok) return false;
    slots_ = slots_buffer_.as<RoundSlots>();
    count_ = &slots_->count;
    err_ = &slots_->error;
    counter_ = &slots_->counter;
    overflow_ = &slots_->overflow;
    std::size_t scratch = 0;
    if (!check(cub::DeviceSelect::Flagged(nullptr, scratch, thrust::counting_iterator<std::int32_t>(0),
                                          flags_.as<std::uint8_t>(), list_.as<std::int32_t>(),
                                          count_, g_.n),
               "cub::DeviceSelect::Flagged (size query)") ||
        !alloc(scratch_, scratch, "CUB scratch")) {
      return false;
    }
    if (!check(cudaEventCreate(&start_), "cudaEventCreate") || !check(cudaEventCreate(&stop_), "cudaEventCreate") ||
        !check(cudaEventRecord(start_), "cudaEventRecord")) {
      return false;
    }
    return to_device(first_, g_.first.data(), (nz + 1) * 4) && to_device(head_, g_.head.data(), mz * 4) &&
           to_device(rev_, g_.rev.data(), mz * 4) && to_device(cost_, scaled.data(), mz * 8) &&
           to_device(rescap_, g_.rescap.data(), mz * 8) && to_device(excess_, g_.excess.data(), nz * 8) &&
           check(cudaMemset(price_.as<void>(), 0, nz * 8), "cudaMemset(price)") &&
           check(cudaMemset(fixed_.as<void>(), 0, mz), "cudaMemset(fixed)") &&
           check(cudaMemset(slots_, 0, sizeof(RoundSlots)), "cudaMemset(slots)") && make_view();
  }

  bool make_view() {
    view_.n = g_.n;
    view_.m2 = g_.m2;
    view_.first = first_.as<std::int32_t>();
    view_.head = head_.as<std::int32_t>();
    view_.rev = rev_.as<std::int32_t>();
    view_.cost = cost_.as<std::int64_t>();
    view_.rescap = rescap_.as<std::int64_t>();
    view_.excess = excess_.as<std::int64_t>();
    view_.price = price_.as<std::int64_t>();
    view_.fixed = params_.arc_fixing ? fixed_.as<std::uint8_t>() : nullptr;
    return true;
  }

  bool finish(std::int64_t k) {
    const std::size_t nz = static_cast<std::size_t>(g_.n);
    const std::size_t mz = static_cast<std::size_t>(g_.m2);
    std::vector<std::int64_t> prices(nz, 0);
    if (!check(cudaMemcpy(g_.rescap.data(), rescap_.as<void>(), mz * 8, cudaMemcpyDeviceToHost), "copy rescap back") ||
        !check(cudaMemcpy(g_.excess.data(), excess_.as<void>(), nz * 8, cudaMemcpyDeviceToHost), "copy excess back") ||
        !check(cudaMemcpy(prices.data(), price_.as<void>(), nz * 8, cudaMemcpyDeviceToHost), "copy prices back") ||
        !check(cudaEventRecord(stop_), "cudaEventRecord") || !check(cudaEventSynchronize(stop_), "cudaEventSynchronize")) {
      return false;
    }
    float ms = 0;
    if (cudaEventElapsedTime(&ms, start_, stop_) == cudaSuccess) out_.kernel_s = ms / 1000.0;
    out_.potential.resize(nz);
    for (std::size_t v = 0; v < nz; ++v) out_.potential[v] = floor_div(prices[v], k);
    return true;
  }

  // ---- Feasibility. ----
  bool max_flow() {
    const std::int64_t cap = round_cap();
    if (!global_relabel()) return false;
    std::int64_t relabels_since = 0;
    for (std::int64_t rounds = 0;; ++rounds) {
      RoundSlots slots{};
      if (!select_active(slots) || !no_error(slots, true)) return false;
      relabels_since += static_cast<std::int64_t>(slots.counter);
      if (slots.count == 0) return true;
      if (rounds >= cap) {
        return status(Status::kBackendError, "max flow did not finish within " + std::to_string(cap) + " rounds");
      }
      if (params_.global_updates && relabels_since >= update_after()) {
        relabels_since = 0;
        if (!global_relabel() || !select_active(slots) || !no_error(slots, true)) return false;
        if (slots.count == 0) return true;
      }
      ++out_.max_flow_rounds;
      if (!reset_counter()) return false;
      const unsigned g = grid(slots.count);
      max_flow_relabel_kernel<<<g, block()>>>(view_, label_.as<std::int64_t>(), list_.as<std::int32_t>(), count_,
                                              err_, counter_);
      if (!launched("max_flow_relabel_kernel")) return false;
      max_flow_push_kernel<<<g, block()>>>(view_, label_.as<std::int64_t>(), list_.as<std::int32_t>(), count_);
      if (!launched("max_flow_push_kernel")) return false;
    }
  }

  // Exact hop distances as heights; an active node left at n is cut off (the error slot
  // says so at the next read).
  bool global_relabel() {
    ++out_.global_updates;
    if (!distances(g_.n, detail::HopLength{})) return false;
    cut_off_kernel<<<grid(g_.n), block()>>>(view_, label_.as<std::int64_t>(), err_);
    return launched("cut_off_kernel");
  }

  // ---- Cost scaling. ----
  bool refine(std::int64_t eps) {
    saturate_kernel<<<grid(g_.n), block()>>>(view_);
    if (!launched("saturate_kernel") || !reset_counter()) return false;
    const std::int64_t cap = round_cap();
    std::int64_t relabels_since = 0;
    bool first = true;
    for (std::int64_t rounds = 0;; ++rounds) {
      RoundSlots slots{};
      if (!select_active(slots) || !no_error(slots, false)) return false;
      relabels_since += static_cast<std::int64_t>(slots.counter);
      if (slots.count == 0) return true;
      if (rounds >= cap) {
        return status(Status::kBackendError, "refine at eps " + std::to_string(eps) + " did not finish within " +
                                                 std::to_string(cap) + " rounds (" + std::to_string(slots.count) +
                                                 " nodes still active)");
      }
      if (params_.global_updates && (first || relabels_since >= update_after())) {
        relabels_since = 0;
        if (!price_update(eps)) return false;
      }
      first = false;
      ++out_.rounds;
      if (!reset_counter()) return false;
      const unsigned g = grid(slots.count);
      relabel_kernel<<<g, block()>>>(view_, list_.as<std::int32_t>(), count_, eps, err_, counter_);
      if (!launched("relabel_kernel")) return false;
      push_kernel<<<g, block()>>>(view_, list_.as<std::int32_t>(), count_, params_.push_all);
      if (!launched("push_kernel")) return false;
    }
  }

  bool price_update(std::int64_t eps) {
    ++out_.global_updates;
    const std::int64_t limit = static_cast<std::int64_t>(g_.n) + 1;
    if (!distances(limit, detail::ReducedCostLength{eps})) return false;
    apply_distance_kernel<<<grid(g_.n), block()>>>(view_, label_.as<std::int64_t>(), eps, limit, err_);
    return launched("apply_distance_kernel");
  }

  // Frontier sweeps to the fixpoint (distance_ops.cuh).
  template <class Length>
  bool distances(std::int64_t limit, Length length) {
    init_distance_kernel<<<grid(g_.n), block()>>>(view_, label_.as<std::int64_t>(), flags_.as<std::uint8_t>(), limit);
    if (!launched("init_distance_kernel")) return false;
    for (std::int64_t sweep = 0;; ++sweep) {
      RoundSlots slots{};
      if (!select(slots)) return false;
      const std::int32_t frontier = slots.count;
      if (frontier == 0) return true;
      if (sweep > static_cast<std::int64_t>(g_.n) + 1) {
        return status(Status::kBackendError, "distance sweeps did not settle");
      }
      if (!check(cudaMemset(flags_.as<void>(), 0, static_cast<std::size_t>(g_.n)), "cudaMemset(flags)")) return false;
      relax_kernel<<<grid(frontier), block()>>>(view_, label_.as<std::int64_t>(), list_.as<std::int32_t>(),
                                                count_, flags_.as<std::uint8_t>(), limit, length);
      if (!launched("relax_kernel")) return false;
    }
  }

  // Price tightening with the given slack; `settled` says whether it reached the fixpoint
  // within the sweep budget (else the prices are restored).
  bool tighten(std::int64_t slack, bool& settled) {
    settled = false;
    const std::size_t nz = static_cast<std::size_t>(g_.n);
    if (!check(cudaMemcpy(label_.as<void>(), price_.as<void>(), nz * 8, cudaMemcpyDeviceToDevice), "keep prices") ||
        !check(cudaMemset(flags_.as<void>(), 1, nz), "cudaMemset(flags)") ||
        !check(cudaMemset(overflow_, 0, sizeof(int)), "cudaMemset(overflow)")) {
      return false;
    }
    for (std::int32_t sweep = 0;; ++sweep) {
      RoundSlots slots{};
      if (!select(slots)) return false;
      if (slots.overflow != 0) break;  // a negative cycle under these lengths
      const std::int32_t frontier = slots.count;
      if (frontier == 0) {
        settled = true;
        return true;
      }
      if (sweep >= params_.tighten_max_sweeps) break;
      if (!check(cudaMemset(flags_.as<void>(), 0, nz), "cudaMemset(flags)")) return false;
      tighten_kernel<<<grid(frontier), block()>>>(view_, list_.as<std::int32_t>(), count_,
                                                  flags_.as<std::uint8_t>(), slack, overflow_);
      if (!launched("tighten_kernel")) return false;
    }
    return check(cudaMemcpy(price_.as<void>(), label_.as<void>(), nz * 8, cudaMemcpyDeviceToDevice), "restore prices");
  }

  bool free_violated(std::int64_t eps, std::int64_t& freed) {
    freed = 0;
    if (!params_.arc_fixing) return true;
    if (!reset_counter()) return false;
    unfix_violated_kernel<<<grid(g_.n), block()>>>(view_, fixed_.as<std::uint8_t>(), eps,
                                                   counter_);
    if (!launched("unfix_violated_kernel")) return false;
    unsigned long long f = 0;
    if (!check(cudaMemcpy(&f, counter_, sizeof(f), cudaMemcpyDeviceToHost), "read the freed-arc count")) return false;
    freed = static_cast<std::int64_t>(f);
    return reset_counter();
  }

  // ---- Frontiers. ----
  bool select_active(RoundSlots& slots) {
    flag_active_kernel<<<grid(g_.n), block()>>>(view_, flags_.as<std::uint8_t>());
    return launched("flag_active_kernel") && select(slots);
  }
  // The flagged node ids into list_ (stable), their count into the slots, and the slots
  // back to the host in one copy; the flags are then free for the next sweep to set.
  bool select(RoundSlots& slots) {
    std::size_t scratch = scratch_.bytes();
    if (!check(cub::DeviceSelect::Flagged(scratch_.as<void>(), scratch, thrust::counting_iterator<std::int32_t>(0),
                                          flags_.as<std::uint8_t>(), list_.as<std::int32_t>(), count_, g_.n),
               "cub::DeviceSelect::Flagged")) {
      return false;
    }
    return check(cudaMemcpy(&slots, slots_, sizeof(RoundSlots), cudaMemcpyDeviceToHost), "read the round slots");
  }

  // ---- Small helpers. ----
  unsigned block() const { return static_cast<unsigned>(std::max(32, params_.block_size)); }
  unsigned grid(std::int64_t threads) const {
    return static_cast<unsigned>(std::max<std::int64_t>(1, (threads + block() - 1) / block()));
  }
  std::int64_t round_cap() const {
    const std::int64_t n1 = static_cast<std::int64_t>(g_.n) + 1;
    return params_.max_rounds_per_refine > 0 ? params_.max_rounds_per_refine : 64 * n1 * n1 + 4096;
  }
  std::int64_t update_after() const {
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(params_.update_frequency * g_.n));
  }
  bool reset_counter() { return check(cudaMemset(counter_, 0, sizeof(*counter_)), "cudaMemset(counter)"); }

  bool alloc(DeviceBuffer& b, std::size_t bytes, const char* what) {
    return check(b.allocate(bytes), (std::string("cudaMalloc(") + what + ")").c_str());
  }
  bool to_device(DeviceBuffer& b, const void* src, std::size_t bytes) {
    return check(cudaMemcpy(b.as<void>(), src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to the device");
  }

  // A launch is checked at once (configuration errors); with SLUICE_CUDA_DEBUG_SYNC also
  // synchronized, so a fault is reported by the kernel that caused it.
  bool launched(const char* kernel) {
    cudaError_t err = cudaGetLastError();
#if defined(SLUICE_CUDA_DEBUG_SYNC)
    if (err == cudaSuccess) err = cudaDeviceSynchronize();
#endif
    return check(err, (std::string(kernel) + " launch").c_str());
  }

  // The error slot the steps write, as read with the round slots. In the max flow a node
  // cut off or without any residual arc means the supply cannot reach demand.
  bool no_error(const RoundSlots& slots, bool max_flow_stage) {
    const DeviceError& e = slots.error;
    switch (static_cast<detail::StepResult>(e.code)) {
      case detail::StepResult::kCutOff:
      case detail::StepResult::kNoResidualArc:
        if (max_flow_stage) {
          return status(Status::kInfeasible, "supply cannot reach any demand: node " + std::to_string(e.node) +
                                                 " holds excess with no residual path to a node short of flow");
        }
        return status(Status::kBackendError,
                      "internal error: node " + std::to_string(e.node) + " holds excess but has no residual arc");
      case detail::StepResult::kPriceOverflow:
        return status(Status::kCostOverflow,
                      "price of node " + std::to_string(e.node) + " fell below -2^62 during cost scaling");
      default:
        return true;
    }
  }

  bool check(cudaError_t err, const char* what) {
    if (err == cudaSuccess) return true;
    (void)cudaGetLastError();
    return status(Status::kBackendError, std::string(what) + ": " + cudaGetErrorString(err));
  }
  bool status(Status s, std::string message) {
    out_.status = s;
    out_.message = std::move(message);
    return false;
  }

  detail::ResidualGraph& g_;
  CostScalingGpuParams params_;
  SolveOutcome& out_;
  DeviceBuffer first_, head_, rev_, cost_, rescap_, fixed_, excess_, price_, label_, list_, flags_, slots_buffer_,
      scratch_;
  RoundSlots* slots_ = nullptr;  // device pointers into slots_buffer_
  std::int32_t* count_ = nullptr;
  DeviceError* err_ = nullptr;
  unsigned long long* counter_ = nullptr;
  int* overflow_ = nullptr;
  detail::DeviceGraphView view_;
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
};

}  // namespace

SolveOutcome solve_cost_scaling_gpu(detail::ResidualGraph& g, const CostScalingGpuParams& params) {
  SolveOutcome out;
  DeviceSolver solver(g, params, out);
  if (solver.run()) out.status = Status::kOptimal;
  return out;
}

}  // namespace sluice::cuda
