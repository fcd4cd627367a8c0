// Allocation network construction (see network_builder.hpp for the formulation).
// Cost: O(shapes × evaluated classes) evaluations (fit and
// cost computed once per shape and group of classes with the same resources), O(arcs) to
// emit. Deterministic: every choice follows snapshot order or a total order.
//
// Over 700 lines because candidate search, the per-class arcs and the running tasks' arcs
// share one builder's state (the classes, the candidate lists, the id tables); split apart
// they would pass that state around.
#include "network_builder.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <iterator>
#include <map>
#include <string_view>
#include <thread>
#include <utility>

#include "id_table.hpp"
#include "interrupt.hpp"

namespace sluice::detail {

// Cost evaluations per task (and machine) a re-solve's candidate search may spend; a first
// network may spend 16. Re-solves see the tasks the first solve could not place, on
// machines whose free state is mostly their own class: fewer per task keeps each round's
// search under ~0.1 s at 1M tasks (16 took 0.3-0.45 s a round), and the rounds after it
// find what one round's sample missed.
constexpr std::int64_t kResolveEvaluationsPerTask = 4;

namespace {

// Resources of machine `m` with every running task of priority below `priority` gone.
Resources without_lower_priority(const Cluster& c, std::int32_t m, std::int32_t priority, std::int64_t& displaceable) {
  const MachineInfo& info = c.machines[static_cast<std::size_t>(m)];
  Resources r = info.free;
  displaceable = 0;
  for (const std::int32_t id : c.running_on(m)) {
    const RunningTask& t = c.running[static_cast<std::size_t>(id)];
    if (t.priority >= priority) continue;
    give_back(c.shapes[static_cast<std::size_t>(t.shape)].demand, r, c.devices(t));
    ++displaceable;
  }
  return r;
}

struct Scored {
  std::int64_t cost;
  std::int32_t cls;  // a machine class (or, for rack members and preferred machines, a machine)
  std::int64_t fit;
  std::int64_t order = 0;  // cost plus the tie-break of its first machine: what ranks it
};

// Cheapest first (tie-break included); ties by class (or machine), so the order is total.
bool cheaper(const Scored& a, const Scored& b) { return a.order != b.order ? a.order < b.order : a.cls < b.cls; }

// Appends entries of `scored` (reordered) to `out` cheapest first while `wanted()` holds,
// passing each to `took`: the prefix a sort would give. Usually one or two of a hundred
// are wanted, so the cheapest is found by a scan, and only then a heap built.
template <typename Wanted, typename Took>
void take_cheapest(std::vector<Scored>& scored, std::vector<Scored>& out, Wanted&& wanted, Took&& took) {
  if (scored.empty() || !wanted()) return;
  const auto first = std::min_element(scored.begin(), scored.end(), cheaper);
  out.push_back(*first);
  took(*first);
  std::iter_swap(first, scored.end() - 1);
  const auto dearer = [](const Scored& a, const Scored& b) { return cheaper(b, a); };
  auto end = scored.end() - 1;
  if (end == scored.begin() || !wanted()) return;
  std::make_heap(scored.begin(), end, dearer);
  for (; end != scored.begin() && wanted(); --end) {
    std::pop_heap(scored.begin(), end, dearer);
    out.push_back(end[-1]);
    took(end[-1]);
  }
}

// What the parallel pass found for a batch of shapes, flat (a few allocations per batch,
// not per shape: the threads share one malloc arena). Shape i of the batch has
// classes[class_end[i - 1], class_end[i]) and preferred[preferred_end[i - 1], preferred_end[i]).
struct ScoredBatch {
  std::vector<Scored> classes;
  std::vector<std::int32_t> class_end;
  std::vector<Scored> preferred;
  std::vector<std::int32_t> preferred_end;
};

// A worker's reusable memory for the parallel pass.
struct Scratch {
  std::vector<Scored> scored;
  std::vector<std::int32_t> group_shape;  // per resource group: the shape group_score holds it for
  std::vector<Scored> group_score;        // per resource group: fit and cost (fit 0: does not fit)
};

class Builder {
 public:
  Builder(Cluster& c, const CostContext& costs, const AllocateOptions& o,
          const std::vector<std::vector<std::int32_t>>* hints)
      : c_(c), costs_(costs), o_(o), hints_(hints), stop_(o.solve.cancel) {}

  BuiltNetwork run();

 private:
  static constexpr std::int32_t kBatch = 64;      // shapes per unit of parallel work
  static constexpr std::int32_t kAnyLabels = -1;  // selector_of_: an empty selector
  static constexpr std::int32_t kNoMask = -2;     // selector_of_: ask labels_match

  void find_candidates(std::int32_t shape_id);
  // Fit and cost of a shape on each evaluated class, cheapest first, cut after the classes
  // that could cover the shape; appended to `out`. Reads only shared immutable state: runs
  // on many threads (as does score_preferred).
  void score_classes(std::int32_t shape_id, Scratch& scratch, std::vector<Scored>& out,
                     std::int64_t& evaluations) const;
  // Preferred machines, then members of preferred racks, where the shape fits, with fit
  // and cost (preferences included), in the order find_candidates adds them (step 3).
  void score_preferred(std::int32_t shape_id, Scratch& scratch, std::vector<Scored>& out,
                       std::int64_t& evaluations) const;
  // Fit and placement cost (preferences aside) of the shape on class `cls`, computed once
  // per shape and resource group (the scratch holds the current shape's).
  const Scored& class_score(std::int32_t shape_id, std::int32_t cls, Scratch& scratch) const;
  void score_all_shapes();
  void index_selectors();
  void index_resource_groups();
  [[nodiscard]] bool labels_ok(std::int32_t shape_id, std::int32_t cls) const;
  [[nodiscard]] std::int64_t need_of(std::int64_t supply) const;
  std::int32_t machine_node(std::int32_t m);
  std::int64_t preference_discount(const Shape& s, std::int32_t m) const;

  Cluster& c_;
  const CostContext& costs_;
  const AllocateOptions& o_;
  const std::vector<std::vector<std::int32_t>>* hints_;
  Interrupt stop_;
  BuiltNetwork out_;
  std::vector<ScoredBatch> scored_;                  // per batch of kBatch shapes
  std::vector<std::int32_t> selector_of_;            // per shape: its row of label_ok_, or kAnyLabels / kNoMask
  std::vector<std::vector<std::uint8_t>> label_ok_;  // per distinct selector, per class: labels match
  // Per machine, MachineInfo's machine_class and rack, flat: read for machines all over
  // the cluster, where each MachineInfo read is a cache miss.
  std::vector<std::int32_t> class_of_;
  std::vector<std::int32_t> rack_of_;
  // Per class: its group of classes with identical resources (classes also differ by
  // labels: in a fresh cluster, hundreds of classes share a handful of machine types).
  std::vector<std::int32_t> group_of_class_;
  std::vector<std::int32_t> by_free_cpu_;  // re-solves: classes, most free CPU first (ties: class id)
  [[nodiscard]] std::int64_t class_free_cpu(std::int32_t cls) const {
    return c_.machines[static_cast<std::size_t>(c_.class_rep[static_cast<std::size_t>(cls)])].free.cpu;
  }
  std::int32_t n_groups_ = 0;
  std::vector<std::int32_t> class_cursor_;
  // Per machine, what candidate search keeps (together: one cache miss, not three).
  struct Taken {
    double claimed = 0;       // Σ over shapes connected of arc cap / fit
    std::int32_t shape = -1;  // the last shape that took it
    std::int32_t slot = 0;    // its index in that shape's candidates
  };
  std::vector<Taken> taken_;
  std::vector<std::int32_t> machine_node_;
  std::vector<std::int64_t> sink_count_;  // per machine: shapes connected
  std::vector<std::int64_t> sink_sum_;    // per machine: Σ over connected shapes of min(fit, its tasks)
  std::int64_t new_per_machine_ = 0;      // new tasks a machine may take in this solve; 0: no limit
  std::vector<std::int32_t> by_min_running_priority_;  // machines with running tasks
  std::int64_t window_ = 0;
  std::int32_t sink_ = 0;
};

std::int64_t Builder::preference_discount(const Shape& s, std::int32_t m) const {
  std::int64_t w = 0;
  for (const auto& [pm, weight] : s.preferred_machines) w += pm == m ? weight : 0;
  if (s.preferred_racks.empty()) return w;
  const std::int32_t rack = rack_of_[static_cast<std::size_t>(m)];
  for (const auto& [pr, weight] : s.preferred_racks) w += pr == rack ? weight : 0;
  return w;
}

// Tasks' worth of room a shape's candidates should cover: candidate_slack × supply.
std::int64_t Builder::need_of(std::int64_t supply) const {
  const double need = o_.candidate_slack <= 0 ? 0.0 : std::ceil(o_.candidate_slack * static_cast<double>(supply));
  return static_cast<std::int64_t>(std::min(need, 9e15));
}

// Machines of a class have the same labels (they are part of the class), so a selector
// matches a whole class or none of it: one row per distinct selector, instead of map
// look-ups per evaluation. Rows cost classes × selectors look-ups: skipped when that is more
// than the evaluations themselves (every shape with a selector of its own).
void Builder::index_selectors() {
  selector_of_.assign(c_.shapes.size(), kAnyLabels);
  std::map<std::vector<std::pair<std::string, std::string>>, std::int32_t> rows;
  for (std::size_t si = 0; si < c_.shapes.size(); ++si) {
    const auto& selector = c_.shapes[si].selector;
    if (selector.empty()) continue;
    selector_of_[si] = rows.try_emplace(selector, static_cast<std::int32_t>(rows.size())).first->second;
  }
  const auto n_classes = static_cast<std::int64_t>(c_.class_rep.size());
  if (static_cast<std::int64_t>(rows.size()) * n_classes > static_cast<std::int64_t>(c_.shapes.size()) * window_) {
    for (std::int32_t& row : selector_of_) row = row == kAnyLabels ? kAnyLabels : kNoMask;
    return;
  }
  std::vector<std::int32_t> shape_of_row(rows.size());  // a shape with the row's selector
  for (std::size_t si = 0; si < c_.shapes.size(); ++si) {
    if (selector_of_[si] >= 0) shape_of_row[static_cast<std::size_t>(selector_of_[si])] = static_cast<std::int32_t>(si);
  }
  label_ok_.assign(rows.size(), std::vector<std::uint8_t>(c_.class_rep.size(), 0));
  for (std::size_t row = 0; row < rows.size(); ++row) {
    const Shape& s = c_.shapes[static_cast<std::size_t>(shape_of_row[row])];
    for (std::size_t cls = 0; cls < c_.class_rep.size(); ++cls)
      label_ok_[row][cls] = labels_match(c_, s, c_.class_rep[cls]) ? 1 : 0;
  }
}

// Fit and cost read a machine's capacity, free resources and devices (as a multiset of
// (model, free share): every use sums or counts over them), never its labels: equal for
// classes of a group.
void Builder::index_resource_groups() {
  IdTable groups(c_.class_rep.size());
  KeyArena keys;
  n_groups_ = 0;
  std::string key;
  std::vector<std::pair<std::int32_t, std::int32_t>> devices;
  group_of_class_.resize(c_.class_rep.size());
  for (std::size_t cls = 0; cls < c_.class_rep.size(); ++cls) {
    const MachineInfo& m = c_.machines[static_cast<std::size_t>(c_.class_rep[cls])];
    key.clear();
    for (const Resources* r : {&m.capacity, &m.free}) {
      append_raw(key, r->cpu);
      append_raw(key, r->memory);
      append_raw(key, r->extra.size());
      for (const std::int64_t e : r->extra) append_raw(key, e);
    }
    devices.clear();
    for (std::size_t g = 0; g < m.gpu_model.size(); ++g) devices.emplace_back(m.gpu_model[g], m.free.gpu_free[g]);
    std::sort(devices.begin(), devices.end());
    append_raw(key, devices.size());
    for (const auto& [model, free] : devices) {
      append_raw(key, model);
      append_raw(key, free);
    }
    const auto found = groups.try_emplace(hash_bytes(key), n_groups_, [&](std::int32_t i) { return keys[i] == key; });
    if (found.second) {
      keys.push_back(key);
      ++n_groups_;
    }
    group_of_class_[cls] = found.first;
  }
}

const Scored& Builder::class_score(std::int32_t shape_id, std::int32_t cls, Scratch& scratch) const {
  const auto group = static_cast<std::size_t>(group_of_class_[static_cast<std::size_t>(cls)]);
  Scored& score = scratch.group_score[group];
  if (scratch.group_shape[group] != shape_id) {
    scratch.group_shape[group] = shape_id;
    const Demand& d = c_.shapes[static_cast<std::size_t>(shape_id)].demand;
    const MachineInfo& rep = c_.machines[static_cast<std::size_t>(c_.class_rep[static_cast<std::size_t>(cls)])];
    score.fit = fit_count(d, rep.free, rep.gpu_model);
    score.cost = score.fit > 0 ? costs_.placement(d, rep.capacity, rep.free, rep.gpu_model) : 0;
  }
  return score;
}

bool Builder::labels_ok(std::int32_t shape_id, std::int32_t cls) const {
  const std::int32_t row = selector_of_[static_cast<std::size_t>(shape_id)];
  if (row == kAnyLabels) return true;
  if (row == kNoMask) {
    return labels_match(c_, c_.shapes[static_cast<std::size_t>(shape_id)], c_.class_rep[static_cast<std::size_t>(cls)]);
  }
  return label_ok_[static_cast<std::size_t>(row)][static_cast<std::size_t>(cls)] != 0;
}

void Builder::find_candidates(std::int32_t shape_id) {
  Shape& s = c_.shapes[static_cast<std::size_t>(shape_id)];
  const Demand& d = s.demand;
  const std::int64_t supply = static_cast<std::int64_t>(s.pending.size()) + (o_.allow_migration ? s.running : 0);
  if (supply == 0 || !d.any_model_known) return;

  const auto add = [&](std::int32_t m, std::int64_t fit, std::int64_t cost, std::int64_t fixed) {
    cost += costs_.tie(m);
    Taken& state = taken_[static_cast<std::size_t>(m)];
    if (state.shape == shape_id) {
      Candidate& existing = s.candidates[static_cast<std::size_t>(state.slot)];
      if (fit > existing.fit) existing = Candidate{m, fit, cost, fixed};
      return;
    }
    state.shape = shape_id;
    state.slot = static_cast<std::int32_t>(s.candidates.size());
    s.candidates.push_back(Candidate{m, fit, cost, fixed});
  };
  const auto running_on = [&](std::int32_t m) {
    return c_.running.empty() ? 0 : static_cast<std::int64_t>(c_.running_on(m).size());
  };

  // 1. Fit and cost per machine class, cheapest first (computed in parallel beforehand).
  const ScoredBatch& found = scored_[static_cast<std::size_t>(shape_id / kBatch)];
  const std::int32_t i = shape_id % kBatch;
  const std::span<const Scored> scored(found.classes.data() + (i == 0 ? 0 : found.class_end[i - 1]),
                                       found.classes.data() + found.class_end[i]);
  const bool all = o_.candidate_slack <= 0;
  const std::int64_t need = need_of(supply);

  // 2. Machines of the cheapest classes until the shape is covered with slack. A machine
  //    already claimed by earlier shapes for `candidate_slack` times what it holds is
  //    skipped in a first pass, so that when demand exceeds the cheapest classes the
  //    candidates spread over the cluster instead of piling onto the same machines (the
  //    flow can only use machines it is connected to). A second pass ignores the claims
  //    when the first could not cover the shape.
  std::int64_t covered = 0;
  std::int64_t taken = 0;
  const auto done = [&] { return !all && covered >= need && taken >= o_.min_candidates; };
  const double claim_limit = all ? 0.0 : o_.candidate_slack;
  for (int pass = all ? 1 : 0; pass < 2 && !done(); ++pass) {
    for (const Scored& sc : scored) {
      if (done()) break;
      const auto& members = c_.class_members[static_cast<std::size_t>(sc.cls)];
      // With a tie-break, members are in its order and every shape starts at the first
      // (claims still spread them); otherwise a cursor per class spreads shapes.
      std::int32_t no_cursor = 0;
      std::int32_t& cursor = costs_.has_tie() ? no_cursor : class_cursor_[static_cast<std::size_t>(sc.cls)];
      const auto size = static_cast<std::int32_t>(members.size());
      std::int32_t used = 0;
      for (std::int32_t at = cursor; used < size; ++used, at = at + 1 == size ? 0 : at + 1) {
        if (done()) break;
        const std::int32_t m = members[static_cast<std::size_t>(at)];
        Taken& state = taken_[static_cast<std::size_t>(m)];
        if (pass == 0 && state.claimed >= claim_limit) continue;
        if (state.shape == shape_id) continue;  // taken in the first pass
        const std::int64_t arc = std::min(sc.fit, supply);
        add(m, arc, sc.cost - preference_discount(s, m), running_on(m));
        state.claimed += static_cast<double>(arc) / static_cast<double>(sc.fit);
        covered += sc.fit;
        ++taken;
      }
      cursor = static_cast<std::int32_t>((cursor + used) % size);
    }
  }

  // 2b. Machines the caller knows the shape fits on (a re-solve's first-fit hints).
  if (hints_ != nullptr && static_cast<std::size_t>(shape_id) < hints_->size()) {
    for (const std::int32_t m : (*hints_)[static_cast<std::size_t>(shape_id)]) {
      if (taken_[static_cast<std::size_t>(m)].shape == shape_id) continue;
      const MachineInfo& info = c_.machines[static_cast<std::size_t>(m)];
      if (!labels_ok(shape_id, class_of_[static_cast<std::size_t>(m)])) continue;
      const std::int64_t fit = fit_count(d, info.free, info.gpu_model);
      if (fit <= 0) continue;
      ++out_.cost_evaluations;
      add(m, std::min(fit, supply), costs_.placement(d, info.capacity, info.free, info.gpu_model) - preference_discount(s, m),
          running_on(m));
    }
  }

  // 3. Preferred machines and members of preferred racks, where the shape fits (scored in
  //    parallel beforehand).
  for (auto p = found.preferred.begin() + (i == 0 ? 0 : found.preferred_end[i - 1]),
            end = found.preferred.begin() + found.preferred_end[i];
       p != end; ++p) {
    add(p->cls, std::min(p->fit, supply), p->cost, running_on(p->cls));
  }

  // 4. Priority model: machines whose lower-priority running tasks could make room.
  const auto pending = static_cast<std::int64_t>(s.pending.size());
  if (costs_.preempts() && o_.allow_preemption && pending > 0) {
    std::int64_t free_room = 0;
    for (const Candidate& cand : s.candidates) free_room += cand.fit;
    const std::int64_t want = all ? kUnlimitedFit : std::max<std::int64_t>(need, pending);
    for (const std::int32_t m : by_min_running_priority_) {
      if (free_room >= want) break;
      const auto& on = c_.running_on(m);
      std::int32_t lowest = c_.running[static_cast<std::size_t>(on.front())].priority;
      for (const std::int32_t id : on) lowest = std::min(lowest, c_.running[static_cast<std::size_t>(id)].priority);
      if (lowest >= s.priority) break;  // sorted: no later machine has lower priority
      if (!labels_ok(shape_id, class_of_[static_cast<std::size_t>(m)])) continue;
      std::int64_t displaceable = 0;
      const Resources room = without_lower_priority(c_, m, s.priority, displaceable);
      const MachineInfo& info = c_.machines[static_cast<std::size_t>(m)];
      const std::int64_t fit = fit_count(d, room, info.gpu_model);
      ++out_.cost_evaluations;
      if (fit <= 0) continue;
      free_room += fit;
      add(m, std::min(fit, supply),
          costs_.placement(d, info.capacity, room, info.gpu_model) - preference_discount(s, m),
          running_on(m) - displaceable);
    }
  }
  std::sort(s.candidates.begin(), s.candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.cost != b.cost ? a.cost < b.cost : a.machine < b.machine;
  });
}

void Builder::score_classes(std::int32_t shape_id, Scratch& scratch, std::vector<Scored>& out,
                            std::int64_t& evaluations) const {
  const Shape& s = c_.shapes[static_cast<std::size_t>(shape_id)];
  const Demand& d = s.demand;
  const std::int64_t supply = static_cast<std::int64_t>(s.pending.size()) + (o_.allow_migration ? s.running : 0);
  if (supply == 0 || !d.any_model_known) return;
  // In a re-solve, only classes with the CPU for one task can hold one: they are a prefix
  // of the classes ordered by free CPU, and the window samples that prefix, not all classes
  // (most are nearly full then, and a window over all of them missed the few with room). A
  // first network samples every class in id order: a sample biased to roomy machines took
  // worse candidates for the models that prefer full ones (priority at 150k tasks: 12% more
  // cost, 2% fewer tasks placed).
  const auto with_cpu = !by_free_cpu_.empty()
                            ? static_cast<std::int64_t>(
                                  std::partition_point(by_free_cpu_.begin(), by_free_cpu_.end(),
                                                       [&](std::int32_t cls) { return class_free_cpu(cls) >= d.cpu; }) -
                                  by_free_cpu_.begin())
                            : static_cast<std::int64_t>(c_.class_rep.size());
  const std::int64_t count = std::min(with_cpu, window_);
  const std::int64_t start = count == with_cpu ? 0 : (static_cast<std::int64_t>(shape_id) * count) % with_cpu;
  std::vector<Scored>& scored = scratch.scored;
  scored.clear();
  for (std::int64_t k = 0, at = start; k < count; ++k, at = at + 1 == with_cpu ? 0 : at + 1) {
    if (stop_.raised()) break;  // one evaluation can be long (FGD on a machine with 1,024 GPUs)
    const auto cls = by_free_cpu_.empty() ? static_cast<std::int32_t>(at) : by_free_cpu_[static_cast<std::size_t>(at)];
    if (!labels_ok(shape_id, cls)) continue;
    const Scored& score = class_score(shape_id, cls, scratch);
    if (score.fit > 0) {
      const std::int64_t tie = costs_.tie(c_.class_members[static_cast<std::size_t>(cls)].front());
      scored.push_back({score.cost, cls, score.fit, score.cost + tie});
    }
  }
  evaluations += count;
  if (o_.candidate_slack <= 0) {
    std::sort(scored.begin(), scored.end(), cheaper);
    out.insert(out.end(), scored.begin(), scored.end());
    return;
  }
  // Keep the prefix that could ever be taken: claims (find_candidates) may skip machines,
  // so classes for 4× the need.
  const double need = 4.0 * std::ceil(o_.candidate_slack * static_cast<double>(supply));
  double covered = 0;
  std::int64_t machines = 0;
  take_cheapest(
      scored, out, [&] { return covered < need || machines < o_.min_candidates; },
      [&](const Scored& sc) {
        const auto members = static_cast<std::int64_t>(c_.class_members[static_cast<std::size_t>(sc.cls)].size());
        covered += static_cast<double>(sc.fit) * static_cast<double>(members);
        machines += members;
      });
}

void Builder::score_preferred(std::int32_t shape_id, Scratch& scratch, std::vector<Scored>& out,
                              std::int64_t& evaluations) const {
  const Shape& s = c_.shapes[static_cast<std::size_t>(shape_id)];
  const Demand& d = s.demand;
  const std::int64_t supply = static_cast<std::int64_t>(s.pending.size()) + (o_.allow_migration ? s.running : 0);
  if (supply == 0 || !d.any_model_known || (s.preferred_machines.empty() && s.preferred_racks.empty())) return;
  // Fit and cost on machine m, preferences aside, are those of its class: machines of a
  // class have identical capacity, free resources, devices and labels.
  const auto score = [&](std::int32_t m, std::int64_t rack_discount, std::vector<Scored>& to) {
    const std::int32_t cls = class_of_[static_cast<std::size_t>(m)];
    if (!labels_ok(shape_id, cls)) return;
    const Scored& base = class_score(shape_id, cls, scratch);
    ++evaluations;
    if (base.fit <= 0) return;
    std::int64_t discount = rack_discount;
    for (const auto& [pm, weight] : s.preferred_machines) discount += pm == m ? weight : 0;
    to.push_back({base.cost - discount, m, base.fit, base.cost - discount + costs_.tie(m)});
  };
  const auto rack_discount = [&](std::int32_t rack) {  // preference_discount's rack part
    std::int64_t w = 0;
    for (const auto& [pr, weight] : s.preferred_racks) w += pr == rack ? weight : 0;
    return w;
  };
  for (const auto& [m, w] : s.preferred_machines) score(m, rack_discount(rack_of_[static_cast<std::size_t>(m)]), out);
  // Rack members: the cheapest that fit, until they cover the shape like the classes do.
  const bool all = o_.candidate_slack <= 0;
  const std::int64_t need = need_of(supply);
  for (const auto& [rack, w] : s.preferred_racks) {
    const std::int64_t discount = rack_discount(rack);
    std::vector<Scored>& members = scratch.scored;
    members.clear();
    for (const std::int32_t m : c_.rack_members[static_cast<std::size_t>(rack)]) score(m, discount, members);
    std::int64_t rack_covered = 0;
    take_cheapest(
        members, out, [&] { return all || rack_covered < need; }, [&](const Scored& sc) { rack_covered += sc.fit; });
  }
}

void Builder::score_all_shapes() {
  const auto n = static_cast<std::int32_t>(c_.shapes.size());
  scored_.assign(static_cast<std::size_t>((n + kBatch - 1) / kBatch), {});
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const auto threads =
      static_cast<std::int32_t>(std::min<unsigned>(std::min(hw, 8u), static_cast<unsigned>(n / 256 + 1)));
  std::atomic<std::int32_t> next{0};
  std::vector<std::int64_t> evaluations(static_cast<std::size_t>(threads), 0);
  const auto work = [&](std::int32_t worker) {
    std::int64_t done = 0;  // here, not in `evaluations`: workers would share its cache line
    Scratch scratch;
    scratch.group_shape.assign(static_cast<std::size_t>(n_groups_), -1);
    scratch.group_score.resize(static_cast<std::size_t>(n_groups_));
    for (std::int32_t begin = next.fetch_add(kBatch); begin < n; begin = next.fetch_add(kBatch)) {
      ScoredBatch& batch = scored_[static_cast<std::size_t>(begin / kBatch)];
      for (std::int32_t sh = begin; sh < std::min(n, begin + kBatch); ++sh) {
        if (stop_.raised()) return;  // run() reports it once the workers are back
        score_classes(sh, scratch, batch.classes, done);
        batch.class_end.push_back(static_cast<std::int32_t>(batch.classes.size()));
        score_preferred(sh, scratch, batch.preferred, done);
        batch.preferred_end.push_back(static_cast<std::int32_t>(batch.preferred.size()));
      }
    }
    evaluations[static_cast<std::size_t>(worker)] = done;
  };
  std::vector<std::thread> pool;
  for (std::int32_t w = 1; w < threads; ++w) pool.emplace_back(work, w);
  work(0);
  for (std::thread& t : pool) t.join();
  for (const std::int64_t e : evaluations) out_.cost_evaluations += e;
}

std::int32_t Builder::machine_node(std::int32_t m) {
  std::int32_t& node = machine_node_[static_cast<std::size_t>(m)];
  if (node < 0) node = out_.network.add_node(0);
  return node;
}

BuiltNetwork Builder::run() {
  const Snapshot& snap = *c_.snapshot;
  // Shapes that will be scored: those with tasks to place (or, with migration, to move).
  std::int64_t n_shapes = 0;
  for (const Shape& s : c_.shapes) n_shapes += !s.pending.empty() || (o_.allow_migration && s.running > 0) ? 1 : 0;
  // allocate() resolves the auto rule once per snapshot (resolved_new_tasks_per_machine).
  new_per_machine_ = o_.new_tasks_per_machine > 0 ? o_.new_tasks_per_machine : 0;
  const auto n_classes = static_cast<std::int64_t>(c_.class_rep.size());
  class_cursor_.assign(c_.class_rep.size(), 0);
  taken_.assign(c_.machines.size(), Taken{});
  machine_node_.assign(c_.machines.size(), -1);
  sink_count_.assign(c_.machines.size(), 0);
  sink_sum_.assign(c_.machines.size(), 0);
  std::int64_t evaluations = o_.max_evaluations;
  if (evaluations <= 0) {
    // The tasks this network places: the snapshot's, or in a re-solve those still left.
    std::int64_t tasks = 0;
    if (c_.shape_origin.empty()) {
      for (const Job& j : snap.jobs) tasks += static_cast<std::int64_t>(j.tasks.size());
    } else {
      for (const Shape& s : c_.shapes) tasks += static_cast<std::int64_t>(s.pending.size());
    }
    const std::int64_t per_task = c_.shape_origin.empty() ? 16 : kResolveEvaluationsPerTask;
    // At least a million: below that, every class is evaluated in a few milliseconds.
    evaluations = std::clamp<std::int64_t>(per_task * (tasks + static_cast<std::int64_t>(c_.machines.size())),
                                           1'000'000, 8'000'000);
  }
  const std::int64_t budget = std::max<std::int64_t>(1, evaluations / costs_.evaluation_weight());
  window_ = n_shapes * n_classes <= budget ? n_classes
                                           : std::max<std::int64_t>(64, budget / std::max<std::int64_t>(1, n_shapes));

  if (costs_.preempts() && o_.allow_preemption) {
    std::vector<std::pair<std::int32_t, std::int32_t>> order;  // (lowest running priority, machine)
    for (std::size_t m = 0; m < c_.machines.size(); ++m) {
      if (c_.running_on(static_cast<std::int32_t>(m)).empty()) continue;
      std::int32_t lowest =
          c_.running[static_cast<std::size_t>(c_.running_on(static_cast<std::int32_t>(m)).front())].priority;
      for (const std::int32_t id : c_.running_on(static_cast<std::int32_t>(m)))
        lowest = std::min(lowest, c_.running[static_cast<std::size_t>(id)].priority);
      order.emplace_back(lowest, static_cast<std::int32_t>(m));
    }
    std::sort(order.begin(), order.end());
    for (const auto& o : order) by_min_running_priority_.push_back(o.second);
  }

  // 1. Candidates per shape.
  auto t = std::chrono::steady_clock::now();
  class_of_.resize(c_.machines.size());
  rack_of_.resize(c_.machines.size());
  for (std::size_t m = 0; m < c_.machines.size(); ++m) {
    class_of_[m] = c_.machines[m].machine_class;
    rack_of_[m] = c_.machines[m].rack;
  }
  if (costs_.has_tie()) {
    for (auto& members : c_.class_members) {
      std::sort(members.begin(), members.end(), [&](std::int32_t a, std::int32_t b) {
        return costs_.tie(a) != costs_.tie(b) ? costs_.tie(a) < costs_.tie(b) : a < b;
      });
    }
  }
  index_selectors();
  index_resource_groups();
  if (!c_.shape_origin.empty()) {  // a residual cluster: see score_classes
    by_free_cpu_.resize(c_.class_rep.size());
    for (std::size_t cls = 0; cls < by_free_cpu_.size(); ++cls) by_free_cpu_[cls] = static_cast<std::int32_t>(cls);
    std::stable_sort(by_free_cpu_.begin(), by_free_cpu_.end(),
                     [&](std::int32_t a, std::int32_t b) { return class_free_cpu(a) > class_free_cpu(b); });
  }
  score_all_shapes();
  stop_.check("build");
  trace_step(c_.trace, "candidates: scoring classes", t);
  for (std::int32_t s = 0; s < static_cast<std::int32_t>(c_.shapes.size()); ++s) {
    stop_.every<256>(static_cast<std::size_t>(s), "build");
    find_candidates(s);
  }
  scored_ = {};
  trace_step(c_.trace, "candidates: machines", t);

  // 2. Nodes and arcs. Sink first; machine nodes as they are first used. The number of
  //    arcs first: the network's arrays are then allocated once. A task left unscheduled
  //    goes straight to the sink at the cost U: every task of a shape has the same U (the
  //    cost class is part of the shape), so a per-job aggregator would add a node per job
  //    and decide nothing.
  Network& net = out_.network;
  sink_ = net.add_node(0);
  std::int64_t total_supply = 0;
  out_.shape_arcs.resize(c_.shapes.size());
  std::size_t arcs_bound = c_.machines.size() * static_cast<std::size_t>(costs_.slot_segments());
  for (std::size_t si = 0; si < c_.shapes.size(); ++si) {
    const Shape& s = c_.shapes[si];
    const auto pending = static_cast<std::int64_t>(s.pending.size());
    for (const Candidate& cand : s.candidates) {  // room: see step 4
      ++sink_count_[static_cast<std::size_t>(cand.machine)];
      sink_sum_[static_cast<std::size_t>(cand.machine)] += std::min(cand.fit, std::max<std::int64_t>(pending, 1));
    }
    if (pending == 0) continue;
    arcs_bound += s.candidates.size() + 1 + (o_.aggregate ? 0 : s.pending.size());
  }
  for (const RunningGroup& g : c_.running_groups) {  // stay, moves, preemption
    arcs_bound += 2 + static_cast<std::size_t>(std::max(o_.migration_candidates, 0)) +
                  (o_.aggregate ? 0 : static_cast<std::size_t>(g.count));
  }
  net.reserve_arcs(arcs_bound);
  for (std::size_t si = 0; si < c_.shapes.size(); ++si) {
    stop_.every(si, "build");
    const Shape& s = c_.shapes[si];
    const auto pending = static_cast<std::int64_t>(s.pending.size());
    if (pending == 0) continue;
    const Job* first_job = &snap.jobs[static_cast<std::size_t>(s.pending.front().job)];
    const std::int64_t u_cost =
        costs_.unscheduled(s.demand, s.priority, std::max<std::int64_t>(0, snap.time - first_job->submit_time));
    total_supply += pending;
    // Not aggregated: one node per task, each feeding the shape's node (Firmament's task
    // equivalence class), which then carries no supply of its own.
    const NodeId node = net.add_node(o_.aggregate ? pending : 0);
    if (!o_.aggregate) {
      for (std::int64_t i = 0; i < pending; ++i) net.add_arc(net.add_node(1), node, 0, 1, 0);
    }
    BuiltNetwork::NodeArcs& arcs = out_.shape_arcs[si];
    arcs.first = net.num_arcs();
    arcs.targets.reserve(s.candidates.size());
    for (const Candidate& cand : s.candidates) {
      net.add_arc(node, machine_node(cand.machine), 0, std::min(cand.fit, pending), cand.cost);
      arcs.targets.push_back(cand.machine);
    }
    arcs.count = static_cast<std::int32_t>(arcs.targets.size());
    net.add_arc(node, sink_, 0, pending, u_cost);  // read_flow finds it right after the machine arcs
  }

  // 3. Running tasks: stay, migrate to the shape's cheapest candidates, or be preempted.
  const bool preempt_arcs = costs_.preempts() && o_.allow_preemption;
  //    A group that can only stay (no cheaper place, no preemption arc) is not a choice:
  //    it leaves the network and takes its room off its machine's sink arc.
  std::vector<std::int64_t> fixed_on(c_.machines.size(), 0);
  out_.group_arcs.resize(c_.running_groups.size());
  for (std::size_t gi = 0; gi < c_.running_groups.size(); ++gi) {
    stop_.every(gi, "build");
    const RunningGroup& g = c_.running_groups[gi];
    const auto k = static_cast<std::int64_t>(g.count);
    const Shape& s = c_.shapes[static_cast<std::size_t>(g.shape)];
    const RunningTask& first = c_.running[static_cast<std::size_t>(c_.members(g).front())];
    const MachineInfo& here = c_.machines[static_cast<std::size_t>(g.machine)];
    Resources as_if_new = here.free;
    give_back(s.demand, as_if_new, c_.devices(first));
    const std::int64_t stay =
        costs_.staying(s.demand, here.capacity, as_if_new, here.gpu_model) - preference_discount(s, g.machine) +
        costs_.tie(g.machine);
    ++out_.cost_evaluations;
    std::vector<const Candidate*> moves;
    if (o_.allow_migration) {
      for (const Candidate& cand : s.candidates) {
        if (static_cast<std::int32_t>(moves.size()) >= o_.migration_candidates) break;
        if (cand.cost + o_.migration_cost >= stay) break;  // sorted: no later one is cheaper
        if (cand.machine == g.machine ||
            cand.fixed_running < static_cast<std::int64_t>(c_.running_on(cand.machine).size()))
          continue;
        moves.push_back(&cand);
      }
    }
    BuiltNetwork::NodeArcs& arcs = out_.group_arcs[gi];
    if (moves.empty() && !preempt_arcs) {
      arcs.fixed = true;
      fixed_on[static_cast<std::size_t>(g.machine)] += k;
      continue;
    }
    total_supply += k;
    const NodeId node = net.add_node(o_.aggregate ? k : 0);
    if (!o_.aggregate) {
      for (std::int64_t i = 0; i < k; ++i) net.add_arc(net.add_node(1), node, 0, 1, 0);
    }
    arcs.first = net.num_arcs();
    net.add_arc(node, machine_node(g.machine), 0, k, stay);
    arcs.targets.push_back(g.machine);
    for (const Candidate* cand : moves) {
      net.add_arc(node, machine_node(cand->machine), 0, std::min(cand->fit, k), cand->cost + o_.migration_cost);
      arcs.targets.push_back(cand->machine);
    }
    arcs.count = static_cast<std::int32_t>(arcs.targets.size());
    if (preempt_arcs) {
      const Job& job = snap.jobs[static_cast<std::size_t>(first.ref.job)];
      net.add_arc(node, sink_, 0, k,
                  costs_.preemption(s.demand, job.priority, std::max<std::int64_t>(0, snap.time - job.submit_time)));
    }
  }

  // 4. Machine → sink, in tasks: the mean over connected shapes of how many of each it may
  //    get (its fit, at most its tasks), rounded up, plus the running tasks that flow
  //    through it. A machine holds fit(s) tasks of one shape, but fewer of a mix; the
  //    maximum over shapes let the flow overfill machines with mixes, and the mean
  //    under-fills machines connected to many shapes of few tasks (at 1M tasks the first
  //    solve places a quarter): the re-solves fill them. Measured against an estimate from
  //    the mix's mean demand per resource (docs/allocation.md): that one decided more in
  //    the first solve at 1M tasks but placed up to 3% fewer tasks in all on openb.
  //    Convex slices for models that price load.
  const int segments = costs_.slot_segments();
  for (std::size_t m = 0; m < c_.machines.size(); ++m) {
    const std::int32_t node = machine_node_[m];
    if (node < 0) continue;
    const auto all_running = static_cast<std::int64_t>(c_.running_on(static_cast<std::int32_t>(m)).size());
    const std::int64_t running = all_running - fixed_on[m];
    const std::int64_t count = sink_count_[m];
    std::int64_t mean = count > 0 ? (sink_sum_[m] + count - 1) / count + all_running : all_running;
    if (new_per_machine_ > 0) mean = std::min(mean, all_running + new_per_machine_);
    const std::int64_t cap = std::max(mean, all_running) - fixed_on[m];
    const std::int64_t fresh = cap - running;
    for (int k = 0; k < segments; ++k) {
      const std::int64_t slice = fresh / segments + (k < fresh % segments ? 1 : 0) + (k == 0 ? running : 0);
      if (slice > 0) net.add_arc(node, sink_, 0, slice, costs_.slot_segment_cost(k));
    }
  }
  net.set_supply(sink_, -total_supply);
  trace_step(c_.trace, "network", t);
  return std::move(out_);
}

}  // namespace

BuiltNetwork build_network(Cluster& cluster, const CostContext& costs, const AllocateOptions& options,
                           const std::vector<std::vector<std::int32_t>>* hints) {
  return Builder(cluster, costs, options, hints).run();
}

FlowDecision read_flow(const Cluster& c, const BuiltNetwork& built, const std::vector<std::int64_t>& flow,
                       const AllocateOptions& /*options*/) {
  FlowDecision out;
  out.pending_machine.resize(c.shapes.size());
  const auto f = [&](std::int32_t arc) { return flow[static_cast<std::size_t>(arc)]; };
  for (std::size_t si = 0; si < c.shapes.size(); ++si) {
    const Shape& s = c.shapes[si];
    auto& machine = out.pending_machine[si];
    machine.assign(s.pending.size(), -1);
    if (s.pending.empty()) continue;
    // The last u tasks (in snapshot order) stay unscheduled; the rest are dealt to the
    // machine arcs in arc order.
    const auto& arcs = built.shape_arcs[si];
    const std::int64_t u = f(arcs.first + arcs.count);
    std::vector<std::uint8_t> unscheduled(s.pending.size(), 0);
    for (std::int64_t k = 0; k < u && k < static_cast<std::int64_t>(s.pending.size()); ++k)
      unscheduled[s.pending.size() - 1 - static_cast<std::size_t>(k)] = 1;
    std::size_t next = 0;
    for (std::int32_t a = 0; a < arcs.count; ++a) {
      for (std::int64_t k = f(arcs.first + a); k > 0; --k) {
        while (next < s.pending.size() && unscheduled[next] != 0) ++next;
        if (next == s.pending.size()) break;
        machine[next++] = arcs.targets[static_cast<std::size_t>(a)];
      }
    }
  }

  out.running_machine.assign(c.running.size(), -1);
  for (std::size_t gi = 0; gi < c.running_groups.size(); ++gi) {
    const RunningGroup& g = c.running_groups[gi];
    const auto& arcs = built.group_arcs[gi];
    if (arcs.fixed) {
      for (const std::int32_t id : c.members(g)) out.running_machine[static_cast<std::size_t>(id)] = g.machine;
      continue;
    }
    std::size_t next = 0;
    for (std::int32_t a = 0; a < arcs.count; ++a) {
      for (std::int64_t k = f(arcs.first + a); k > 0 && next < c.members(g).size(); --k) {
        out.running_machine[static_cast<std::size_t>(c.members(g)[next++])] = arcs.targets[static_cast<std::size_t>(a)];
      }
    }
  }
  return out;
}

}  // namespace sluice::detail
