// Fit-and-repair (see repair.hpp).
#include "repair.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "id_table.hpp"

namespace sluice::detail {

// The constraints of a shape other than amounts: selector, allowed models, extra names.
std::string constraint_signature(const Shape& s) {
  std::string key;
  for (const auto& [k, v] : s.selector) key += k + '=' + v + ';';
  key += '|';
  for (const std::uint8_t a : s.demand.model_allowed) key += static_cast<char>('0' + a);
  key += '|';
  for (const auto& [res, amount] : s.demand.extra) key += std::to_string(res) + ',';
  return key;
}

// True when every machine that lacks room for `f` also lacks room for `d` (same
// constraints): d needs at least as much of everything.
bool covers(const Demand& d, const Demand& f) {
  if (d.cpu < f.cpu || d.memory < f.memory || d.extra.size() != f.extra.size()) return false;
  for (std::size_t i = 0; i < d.extra.size(); ++i) {
    if (d.extra[i].first != f.extra[i].first || d.extra[i].second < f.extra[i].second) return false;
  }
  if (f.gpus > 0) return d.gpus >= f.gpus;
  if (f.gpu_milli > 0) return d.gpus > 0 || d.gpu_milli >= f.gpu_milli;
  return true;
}

void Repairer::touched(std::int32_t m) {
  const Resources& r = free_[static_cast<std::size_t>(m)];
  const std::vector<std::int32_t>& models = c_.machines[static_cast<std::size_t>(m)].gpu_model;
  for (std::int32_t e = member_head_[static_cast<std::size_t>(m)]; e >= 0;) {
    const Membership& ms = memberships_[static_cast<std::size_t>(e)];
    groups_[static_cast<std::size_t>(ms.group)].index.update(static_cast<std::size_t>(ms.pos), r, models);
    e = ms.next;
  }
}

void Repairer::ensure_kinds() const {
  if (kinds_built_) return;
  kinds_built_ = true;
  std::unordered_map<std::string, std::int32_t> kinds;
  std::string key;
  kind_of_.resize(c_.machines.size());
  std::vector<std::int32_t> models;
  for (std::size_t m = 0; m < c_.machines.size(); ++m) {
    stop_.every(m, "repair");
    const MachineInfo& info = c_.machines[m];
    key.clear();
    append_raw(key, info.capacity.cpu);
    append_raw(key, info.capacity.memory);
    models = info.gpu_model;
    std::sort(models.begin(), models.end());
    append_raw(key, models.size());
    for (const std::int32_t g : models) append_raw(key, g);
    for (const std::int64_t e : info.capacity.extra) append_raw(key, e);
    for (const auto& [k, v] : c_.snapshot->machines[m].labels) {
      append_str(key, k);
      append_str(key, v);
    }
    const auto [it, fresh] = kinds.try_emplace(key, static_cast<std::int32_t>(kind_rep_.size()));
    if (fresh) {
      kind_rep_.push_back(static_cast<std::int32_t>(m));
      kind_cpu_.push_back(info.capacity.cpu);
      kind_memory_.push_back(info.capacity.memory);
      kind_size_.push_back(0);
    }
    kind_of_[m] = it->second;
    ++kind_size_[static_cast<std::size_t>(it->second)];
  }
}

void Repairer::build_group(std::int32_t group, const Shape& s) {
  ensure_kinds();
  // Labels and device models are the same on every machine of a kind.
  const std::vector<std::uint8_t>& allowed = s.demand.model_allowed;
  std::vector<std::uint8_t> kind_ok(kind_rep_.size(), 0);
  for (std::size_t k = 0; k < kind_rep_.size(); ++k) {
    const std::int32_t rep = kind_rep_[k];
    if (!labels_match(c_, s, rep)) continue;
    if (!allowed.empty()) {
      const std::vector<std::int32_t>& models = c_.machines[static_cast<std::size_t>(rep)].gpu_model;
      if (std::none_of(models.begin(), models.end(),
                       [&](std::int32_t g) { return allowed[static_cast<std::size_t>(g)] != 0; }))
        continue;
    }
    kind_ok[k] = 1;
  }
  std::vector<std::int32_t> members;
  for (std::size_t m = 0; m < c_.machines.size(); ++m) {
    if (kind_ok[static_cast<std::size_t>(kind_of_[m])] == 0) continue;
    const auto pos = static_cast<std::int32_t>(members.size());
    memberships_.push_back(Membership{group, pos, member_head_[m]});
    member_head_[m] = static_cast<std::int32_t>(memberships_.size() - 1);
    members.push_back(static_cast<std::int32_t>(m));
  }
  ScanGroup& g = groups_[static_cast<std::size_t>(group)];
  g.index.build(std::move(members), free_, c_.machines, allowed, s.demand.extra);
  g.built = true;
}

bool Repairer::pack(const Move& mv, std::int32_t m, bool may_displace, bool labels_known) {
  const Demand& d = c_.shapes[static_cast<std::size_t>(mv.shape)].demand;
  const MachineInfo& info = c_.machines[static_cast<std::size_t>(m)];
  if (!labels_known && !labels_match(c_, c_.shapes[static_cast<std::size_t>(mv.shape)], m)) return false;
  Resources& r = free_[static_cast<std::size_t>(m)];
  const auto pick = [this](const Demand& dd, const Resources& rr, const std::vector<std::int32_t>& models) {
    return costs_.pick_share(dd, rr, models);
  };
  bool ok = take(d, r, info.gpu_model, scratch_devices_, pick);
  if (!ok && may_displace) {
    // Displace running tasks of lower priority on m, lowest first, if that makes room.
    std::vector<std::int32_t> victims;
    for (const std::int32_t id : c_.running_on(m)) {
      const TaskOutcome& o = running_[static_cast<std::size_t>(id)];
      if (o.fate == Fate::kKept && c_.running[static_cast<std::size_t>(id)].priority < mv.priority)
        victims.push_back(id);
    }
    std::stable_sort(victims.begin(), victims.end(), [&](std::int32_t a, std::int32_t b) {
      return c_.running[static_cast<std::size_t>(a)].priority < c_.running[static_cast<std::size_t>(b)].priority;
    });
    Resources trial = r;
    std::size_t used = 0;
    for (; used < victims.size(); ++used) {
      const RunningTask& v = c_.running[static_cast<std::size_t>(victims[used])];
      give_back(c_.shapes[static_cast<std::size_t>(v.shape)].demand, trial, c_.devices(v));
      if (fit_count(d, trial, info.gpu_model) > 0) break;
    }
    if (used < victims.size()) {
      for (std::size_t k = 0; k <= used; ++k) {
        const RunningTask& v = c_.running[static_cast<std::size_t>(victims[k])];
        give_back(c_.shapes[static_cast<std::size_t>(v.shape)].demand, r, c_.devices(v));
        running_[static_cast<std::size_t>(victims[k])].fate = Fate::kPreempted;
        const Job& job = c_.snapshot->jobs[static_cast<std::size_t>(mv.ref.job)];
        running_why_[static_cast<std::size_t>(victims[k])] =
            "displaced by higher-priority task " + job.tasks[static_cast<std::size_t>(mv.ref.task)].id +
            " (priority " + std::to_string(job.priority) + ")";
      }
      ok = take(d, r, info.gpu_model, scratch_devices_, pick);
    }
  }
  if (!ok) return false;
  touched(m);
  TaskOutcome& o = outcome(mv);
  o.machine = m;
  set_devices(o, scratch_devices_);
  if (mv.running >= 0) {
    o.fate = m == c_.running[static_cast<std::size_t>(mv.running)].machine ? Fate::kKept : Fate::kMigrated;
  } else {
    o.fate = Fate::kPlaced;
  }
  std::int32_t& placed = placed_priority_[static_cast<std::size_t>(m)];
  placed = std::max(placed, mv.priority);
  return true;
}

// Puts a running task back on its own machine and devices, if they are still free.
bool Repairer::restore(std::int32_t running_id) {
  const RunningTask& t = c_.running[static_cast<std::size_t>(running_id)];
  const Demand& d = c_.shapes[static_cast<std::size_t>(t.shape)].demand;
  Resources& r = free_[static_cast<std::size_t>(t.machine)];
  if (d.cpu > r.cpu || d.memory > r.memory) return false;
  for (const auto& [res, amount] : d.extra) {
    if (amount > r.extra[static_cast<std::size_t>(res)]) return false;
  }
  const std::int32_t per_device = d.gpus > 0 ? kGpuMilliWhole : d.gpu_milli;
  for (const std::int32_t g : c_.devices(t)) {
    if (r.gpu_free[static_cast<std::size_t>(g)] < per_device) return false;
  }
  r.cpu -= d.cpu;
  r.memory -= d.memory;
  for (const auto& [res, amount] : d.extra) r.extra[static_cast<std::size_t>(res)] -= amount;
  for (const std::int32_t g : c_.devices(t)) r.gpu_free[static_cast<std::size_t>(g)] -= per_device;
  touched(t.machine);
  TaskOutcome& o = running_[static_cast<std::size_t>(running_id)];
  o.fate = Fate::kKept;
  o.machine = t.machine;
  set_devices(o, c_.devices(t));
  running_why_[static_cast<std::size_t>(running_id)].clear();
  return true;
}

void Repairer::fitting_machines(std::int32_t shape_id, std::size_t want, std::vector<std::int32_t>& out) {
  out.clear();
  const auto shape = static_cast<std::size_t>(shape_id);
  const Shape& s = c_.shapes[shape];
  if (exhausted_[shape] != 0 || want == 0) return;
  if (group_[shape] < 0) {
    const auto [it, fresh] =
        group_index_.try_emplace(constraint_signature(s), static_cast<std::int32_t>(groups_.size()));
    if (fresh) groups_.emplace_back();
    group_[shape] = it->second;
  }
  ScanGroup& g = groups_[static_cast<std::size_t>(group_[shape])];
  if (!g.built) build_group(group_[shape], s);
  // From where the group's last answer ended (so that shapes asking one after another get
  // different machines), wrapping round to where this shape's own scans left off.
  const std::size_t cursor = scan_cursor_[shape];
  const std::size_t start = std::max(cursor, g.hint_next < g.index.size() ? g.hint_next : cursor);
  const auto scan = [&](std::size_t from, std::size_t to) {
    for (std::size_t pos = g.index.first(from, s.demand); pos < to && out.size() < want;
         pos = g.index.first(pos + 1, s.demand)) {
      const std::int32_t m = g.index.machine(pos);
      if (fit_count(s.demand, free_[static_cast<std::size_t>(m)], c_.machines[static_cast<std::size_t>(m)].gpu_model) > 0) {
        out.push_back(m);
        g.hint_next = pos + 1;
      }
    }
  };
  scan(start, g.index.size());
  if (out.size() < want && start > cursor) scan(cursor, start);
}

bool Repairer::place_anywhere(const Move& mv) {
  // Free resources only shrink from here on, so a machine that could not take a shape once
  // never will: candidate and machine scans resume where the last one stopped, and a shape
  // whose demand covers one that found no machine at all is refused without a scan.
  const auto shape = static_cast<std::size_t>(mv.shape);
  const Shape& s = c_.shapes[shape];
  if (exhausted_[shape] != 0) return false;
  if (group_[shape] < 0) {  // the shape's constraint group, looked up once
    const auto [it, fresh] =
        group_index_.try_emplace(constraint_signature(s), static_cast<std::int32_t>(groups_.size()));
    if (fresh) groups_.emplace_back();
    group_[shape] = it->second;
  }
  const std::int32_t group = group_[shape];
  // Only failures recorded since this shape last looked can be new to it.
  for (std::size_t& f = failures_seen_[shape]; f < groups_[static_cast<std::size_t>(group)].failed.size(); ++f) {
    if (covers(s.demand, *groups_[static_cast<std::size_t>(group)].failed[f])) {
      exhausted_[shape] = 1;
      return false;
    }
  }
  for (std::size_t& k = candidate_cursor_[shape]; k < s.candidates.size(); ++k) {
    if (pack(mv, s.candidates[k].machine, false)) {
      ++placed_on_candidates_;
      return true;
    }
  }
  if (!groups_[static_cast<std::size_t>(group)].built) build_group(group, s);
  const FirstFitIndex& index = groups_[static_cast<std::size_t>(group)].index;
  std::size_t& pos = scan_cursor_[shape];
  // The machine the last task of this shape went to usually takes the next one too.
  if (pos < index.size() && pack(mv, index.machine(pos), false, true)) {
    ++placed_by_scan_;
    return true;
  }
  for (++pos; (pos = index.first(pos, s.demand)) < index.size(); ++pos) {
    if (pack(mv, index.machine(pos), false, true)) {
      ++placed_by_scan_;
      return true;
    }
  }
  exhausted_[shape] = 1;
  groups_[static_cast<std::size_t>(group)].failed.push_back(&s.demand);
  return false;
}

std::vector<std::pair<std::int32_t, std::vector<TaskRef>>> by_shape(const Cluster& cluster,
                                                                  const std::vector<Move>& left) {
  std::vector<std::pair<std::int32_t, std::vector<TaskRef>>> out;
  std::vector<std::int32_t> slot(cluster.shapes.size(), -1);
  for (const Move& mv : left) {
    std::int32_t& k = slot[static_cast<std::size_t>(mv.shape)];
    if (k < 0) {
      k = static_cast<std::int32_t>(out.size());
      out.emplace_back(mv.shape, std::vector<TaskRef>{});
    }
    out[static_cast<std::size_t>(k)].second.push_back(mv.ref);
  }
  for (auto& [shape, refs] : out) {
    std::sort(refs.begin(), refs.end(),
              [](TaskRef a, TaskRef b) { return a.job != b.job ? a.job < b.job : a.task < b.task; });
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

namespace {

bool higher_priority(const Move& a, const Move& b) { return a.priority > b.priority; }

// By GPU (milli-GPUs), then CPU, then memory.
bool smaller(const Demand& a, const Demand& b) {
  if (a.gpu_milli_total() != b.gpu_milli_total()) return a.gpu_milli_total() < b.gpu_milli_total();
  if (a.cpu != b.cpu) return a.cpu < b.cpu;
  return a.memory < b.memory;
}

}  // namespace

bool Repairer::packs_before(const Move& a, const Move& b) const {
  if (a.priority != b.priority) return a.priority > b.priority;
  if (a.shape == b.shape) return false;
  return smaller(c_.shapes[static_cast<std::size_t>(a.shape)].demand, c_.shapes[static_cast<std::size_t>(b.shape)].demand);
}

std::vector<Move> Repairer::apply_first(const FlowDecision& flow) {
  const Snapshot& snap = *c_.snapshot;
  std::vector<Move> moves;
  std::vector<Move> leftovers;
  std::vector<std::int32_t> to_restore;

  // 1. Running tasks: stay as they are, or release what they hold.
  for (std::size_t id = 0; id < c_.running.size(); ++id) {
    const RunningTask& t = c_.running[id];
    TaskOutcome& o = running_[id];
    const std::int32_t target = flow.running_machine[id];
    Move mv{t.priority, t.shape, t.ref, static_cast<std::int32_t>(id), target, static_cast<std::int32_t>(id)};
    // A task the flow moves keeps what it holds until its new place is packed.
    o.fate = Fate::kKept;
    o.machine = t.machine;
    set_devices(o, c_.devices(t));
    if (target == t.machine) continue;
    if (target >= 0) {
      moves.push_back(mv);
      continue;
    }
    give_back(c_.shapes[static_cast<std::size_t>(t.shape)].demand, free_[static_cast<std::size_t>(t.machine)],
              c_.devices(t));
    o.fate = Fate::kPreempted;
    running_why_[id] = "its resources were worth more to higher-priority tasks";
    to_restore.push_back(static_cast<std::int32_t>(id));
  }
  std::size_t placed_by_flow = 0;
  for (std::size_t s = 0; s < c_.shapes.size(); ++s) {
    for (const std::int32_t m : flow.pending_machine[s]) placed_by_flow += m >= 0 ? 1 : 0;
  }
  moves.reserve(moves.size() + placed_by_flow);
  leftovers.reserve(pending_count_ - placed_by_flow);
  for (std::size_t s = 0; s < c_.shapes.size(); ++s) {
    const Shape& shape = c_.shapes[s];
    for (std::size_t i = 0; i < shape.pending.size(); ++i) {
      const TaskRef ref = shape.pending[i];
      Move mv{snap.jobs[static_cast<std::size_t>(ref.job)].priority,
              static_cast<std::int32_t>(s),
              ref,
              -1,
              flow.pending_machine[s][i],
              static_cast<std::int32_t>(i)};
      (mv.machine >= 0 ? moves : leftovers).push_back(mv);
    }
  }

  auto t = std::chrono::steady_clock::now();
  // 2. Flow placements, highest priority first, then smaller first (packs_before).
  std::stable_sort(moves.begin(), moves.end(), [&](const Move& a, const Move& b) { return packs_before(a, b); });
  const bool displace = costs_.preempts() && o_.allow_preemption;
  std::vector<Move> failed;
  std::size_t done = 0;
  for (const Move& mv : moves) {
    stop_.every(done++, "repair");
    // A moving task displaced by a higher-priority one before its own move was packed has
    // already given its room back: it must not be given back twice.
    const bool still_holds = mv.running < 0 || running_[static_cast<std::size_t>(mv.running)].fate == Fate::kKept;
    if (pack(mv, mv.machine, displace)) {
      if (mv.running >= 0 && still_holds) {  // moved: what it held is free now
        const RunningTask& rt = c_.running[static_cast<std::size_t>(mv.running)];
        give_back(c_.shapes[static_cast<std::size_t>(rt.shape)].demand, free_[static_cast<std::size_t>(rt.machine)],
                  c_.devices(rt));
        touched(rt.machine);
      }
      if (mv.running < 0) outcome(mv).decided_by = Decider::kFlow;
      continue;
    }
    ++repaired_;
    if (mv.running < 0) failed.push_back(mv);  // a move that does not fit: the task stays
  }
  trace_step(c_.trace, "repair: flow placements", t);

  // 3. Undo stops and moves that bought nothing.
  std::stable_sort(to_restore.begin(), to_restore.end(), [&](std::int32_t a, std::int32_t b) {
    return c_.running[static_cast<std::size_t>(a)].priority > c_.running[static_cast<std::size_t>(b)].priority;
  });
  for (const std::int32_t id : to_restore) (void)restore(id);

  failed.insert(failed.end(), leftovers.begin(), leftovers.end());
  std::stable_sort(failed.begin(), failed.end(), higher_priority);
  return failed;
}

std::vector<Move> Repairer::apply_resolve(const Cluster& residual, const FlowDecision& flow) {
  const Snapshot& snap = *c_.snapshot;
  std::vector<Move> moves;
  std::vector<Move> left;
  for (std::size_t s = 0; s < residual.shapes.size(); ++s) {
    const Shape& shape = residual.shapes[s];
    for (std::size_t i = 0; i < shape.pending.size(); ++i) {
      const TaskRef ref = shape.pending[i];
      Move mv{snap.jobs[static_cast<std::size_t>(ref.job)].priority,
              residual.shape_origin[s],
              ref,
              -1,
              flow.pending_machine[s][i],
              static_cast<std::int32_t>(i)};
      (mv.machine >= 0 ? moves : left).push_back(mv);
    }
  }
  std::stable_sort(moves.begin(), moves.end(), [&](const Move& a, const Move& b) { return packs_before(a, b); });
  std::size_t done = 0;
  for (const Move& mv : moves) {
    stop_.every(done++, "repair");
    if (pack(mv, mv.machine, false)) {
      outcome(mv).decided_by = Decider::kResolve;
      continue;
    }
    ++repaired_;
    left.push_back(mv);
  }
  std::stable_sort(left.begin(), left.end(), higher_priority);
  return left;
}

void Repairer::fallback(const std::vector<Move>& left) {
  auto t = std::chrono::steady_clock::now();
  // 4. Pending tasks no solve could place: candidates, then first fit over the machines of
  //    their constraint group.
  std::size_t done = 0;
  for (const Move& mv : left) {
    stop_.every<256>(done++, "repair: fallback");
    if (place_anywhere(mv)) {
      outcome(mv).decided_by = Decider::kFallback;
    } else {
      outcome(mv).fate = Fate::kUnscheduled;
    }
  }
  trace_step(c_.trace, "repair: fallback", t);
  if (c_.trace) {  // how much of the answer no solve decided
    std::fprintf(stderr,
                 "[allocate] repair: placed by no solve: %zu on their shape's candidates (cheapest first), %zu by "
                 "first fit over their constraint group\n",
                 placed_on_candidates_, placed_by_scan_);
  }
}

}  // namespace sluice::detail
