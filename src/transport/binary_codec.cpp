// Direct portable-binary codec for snapshots and allocations (binary_codec.hpp).
//
// Layout (cereal's PortableBinaryArchive): one byte with the writer's endianness (1 little,
// 0 big), then fields in schema order without names; integers in the writer's byte order;
// strings, lists and maps start with a u64 length; bools and the task state are one byte.
// This writer always writes little-endian (as cereal does on the machines we build for);
// the reader swaps bytes when the input says big-endian.
//
// The records' fields come from wire_schema.hpp, shared with the cereal snapshot codec and
// the allocation's JSON writer and reader; written here are the walkers (RecordWriter,
// RecordReader), the top levels (snapshot, allocation, indexed allocation) and the columns
// of the indexed form.
#include "binary_codec.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "snapshot_cereal.hpp"  // DecodeError, MinBytes, kSnapshotFormat

namespace sluice::detail {
namespace {

static_assert(std::endian::native == std::endian::little, "the writer assumes a little-endian host");

// ---- Writing ----------------------------------------------------------------------------

// Writes into a buffer of the exact final size: encoders run twice, first counting (no
// buffer), then writing. Growing a string instead doubled its capacity and, on machines
// where first-touch page faults are dear, cost more than the encoding.
class ByteWriter {
 public:
  ByteWriter() { raw("\x01", 1); }  // counting only; the endianness byte (little)
  explicit ByteWriter(std::size_t exact) : out_(exact, '\0'), counting_(false) { raw("\x01", 1); }

  void raw(const void* data, std::size_t n) {
    if (!counting_ && n > 0) std::memcpy(out_.data() + size_, data, n);  // an empty vector's data() may be null
    size_ += n;
  }
  template <class T>
  void put(T v) {
    static_assert(std::is_arithmetic_v<T>);
    raw(&v, sizeof(T));
  }
  void boolean(bool v) { put<std::uint8_t>(v ? 1 : 0); }
  void length(std::size_t n) { put<std::uint64_t>(n); }
  void string(std::string_view s) {
    length(s.size());
    raw(s.data(), s.size());
  }
  template <class V, class F>
  void map(const std::map<std::string, V>& m, F&& value) {
    length(m.size());
    for (const auto& [k, v] : m) {
      string(k);
      value(v);
    }
  }
  void indexes(const std::vector<std::int32_t>& v) {
    length(v.size());
    for (const std::int32_t i : v) put(i);
  }
  template <class T>
  void column(const std::vector<T>& v) {  // the elements only; the length is written by the caller
    static_assert(std::is_arithmetic_v<T> || std::is_enum_v<T>);
    raw(v.data(), v.size() * sizeof(T));
  }
  [[nodiscard]] std::size_t size() const { return size_; }
  std::string take() {
    out_.resize(size_);
    return std::move(out_);
  }

 private:
  std::string out_;
  std::size_t size_ = 0;
  bool counting_ = true;
};

// Runs `write` once to count the bytes and once into a buffer of that size.
template <class Write>
std::string encode_exact(Write&& write) {
  ByteWriter counter;
  write(counter);
  ByteWriter w(counter.size());
  write(w);
  return w.take();
}

// ---- Reading ----------------------------------------------------------------------------

template <class T>
T byteswap_value(T v) {
  using U = std::make_unsigned_t<std::conditional_t<std::is_floating_point_v<T>,
                                                    std::conditional_t<sizeof(T) == 8, std::uint64_t, std::uint32_t>, T>>;
  U u;
  std::memcpy(&u, &v, sizeof(T));
  U r = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    r = static_cast<U>((r << 8) | (u & 0xFF));
    u = static_cast<U>(u >> 8);
  }
  std::memcpy(&v, &r, sizeof(T));
  return v;
}

// Runs one step; an error inside it gets this field's name (or index) in its path.
template <class F>
void field(const char* name, F&& f) {
  try {
    f();
  } catch (DecodeError& e) {
    e.add_field(name);
    throw;
  }
}
template <class F>
void element(std::size_t i, F&& f) {
  try {
    f();
  } catch (DecodeError& e) {
    e.add_index(i);
    throw;
  }
}

class ByteReader {
 public:
  ByteReader(std::string_view in, const SnapshotLimits& limits)
      : begin_(in.data()), p_(in.data()), end_(in.data() + in.size()), limits_(limits) {
    if (in.empty()) throw DecodeError("empty input");
    const auto endian = static_cast<unsigned char>(in.front());
    if (endian > 1) {
      throw DecodeError("not a binary snapshot: byte 0 (the endianness flag) is " + std::to_string(endian) +
                        ", not 0 or 1");
    }
    swap_ = endian == 0;
    ++p_;
  }

  [[nodiscard]] std::size_t offset() const { return static_cast<std::size_t>(p_ - begin_); }
  [[nodiscard]] std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  [[nodiscard]] const SnapshotLimits& limits() const { return limits_; }

  template <class T>
  T get() {
    if (remaining() < sizeof(T)) short_input(sizeof(T));
    T v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return swap_ ? byteswap_value(v) : v;
  }
  // A double that JSON can carry too: NaN and infinity are refused, so both body formats
  // hold the same values.
  double finite() {
    const std::size_t at = offset();
    const auto v = get<double>();
    if (!std::isfinite(v)) throw DecodeError("expected a finite number, found " + std::to_string(v) + at_offset(at));
    return v;
  }
  bool boolean() {
    const std::size_t at = offset();
    const auto b = get<std::uint8_t>();
    if (b > 1) throw DecodeError("expected a boolean (0 or 1), found " + std::to_string(b) + at_offset(at));
    return b == 1;
  }

  // A length prefix, refused unless the input can hold that many elements of at least
  // min_bytes each and the limit allows it; nothing is allocated before this check.
  std::size_t length(std::size_t min_bytes, CountLimit limit = {}) {
    const std::size_t at = offset();
    const auto n = get<std::uint64_t>();
    const std::size_t left = remaining();
    if (n > left / min_bytes) {
      throw DecodeError("length " + std::to_string(n) + " exceeds the " + std::to_string(left) +
                        " bytes that remain" +
                        (min_bytes > 1 ? " (each element takes at least " + std::to_string(min_bytes) + " bytes)"
                                       : std::string()) +
                        at_offset(at));
    }
    if (limit.max >= 0 && n > static_cast<std::uint64_t>(limit.max)) {
      throw DecodeError("length " + std::to_string(n) + " exceeds " + limit.name + " (" + std::to_string(limit.max) +
                        ")" + at_offset(at));
    }
    return static_cast<std::size_t>(n);
  }

  void string(std::string& s) {
    const std::size_t n = length(1, CountLimit{limits_.max_string_bytes, "max_string_bytes"});
    s.assign(p_, n);
    p_ += n;
  }

  template <class V, class F>
  void map(std::map<std::string, V>& m, F&& value) {
    m.clear();
    const std::size_t n = length(8 + MinBytes<V>::value);
    for (std::size_t i = 0; i < n; ++i) {
      std::string key;
      element(i, [&] { string(key); });
      V v{};
      try {
        value(v);
      } catch (DecodeError& e) {
        e.add_key(key);
        throw;
      }
      auto hint = m.end();
      const auto it = m.emplace_hint(hint, std::move(key), std::move(v));
      if (m.size() != i + 1) {
        DecodeError e("duplicate key");
        e.add_key(it->first);
        throw e;
      }
    }
  }

  // n values of T, stored back to back (swapped when the writer's byte order differs).
  template <class T>
  void column(std::vector<T>& v, std::size_t n) {
    static_assert(std::is_arithmetic_v<T>);
    if (n > remaining() / sizeof(T)) short_input(n * sizeof(T));
    v.resize(n);
    if (n > 0) std::memcpy(v.data(), p_, n * sizeof(T));
    p_ += n * sizeof(T);
    if (swap_) {
      for (T& x : v) x = byteswap_value(x);
    }
  }

  void indexes(std::vector<std::int32_t>& v, CountLimit limit) {
    const std::size_t n = length(4, limit);
    v.resize(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = get<std::int32_t>();
  }

 private:
  [[noreturn]] void short_input(std::size_t wanted) const {
    throw DecodeError("input ends early at byte offset " + std::to_string(offset()) + " (needs " +
                      std::to_string(wanted) + " bytes, " + std::to_string(remaining()) + " remain)");
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  const SnapshotLimits& limits_;
  bool swap_ = false;
};

// ---- Snapshot ---------------------------------------------------------------------------

// ---- Records ----------------------------------------------------------------------------
// The records' fields come from wire_schema.hpp; these two walk them.


// Writes each field in schema order: strings, lists and maps with a u64 length first.
struct RecordWriter {
  ByteWriter& w;

  template <class T>
  void value(const T& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      w.string(v);
    } else if constexpr (std::is_same_v<T, TaskState>) {
      w.put<std::uint8_t>(v == TaskState::kRunning ? 1 : 0);
    } else if constexpr (std::is_same_v<T, UnscheduledReason>) {
      w.string(to_string(v));
    } else if constexpr (std::is_arithmetic_v<T>) {
      w.put(v);
    } else if constexpr (kIsVector<T>) {
      w.length(v.size());
      for (const auto& x : v) value(x);
    } else if constexpr (kIsRecord<T>) {
      visit_fields(v, *this);
    } else {
      w.map(v, [this](const auto& x) { value(x); });
    }
  }
  template <class T>
  void operator()(const char* /*name*/, const T& v, ListLimit /*limit*/) {
    value(v);
  }
};

// Reads each field in schema order, naming it (and each list index and map key) in any
// error, checking every length against the bytes left and the limits before allocating,
// the task total against max_tasks, and (snapshots) the cancel flag every 4096 records.
class RecordReader {
 public:
  RecordReader(ByteReader& r, const std::atomic<bool>* cancel) : r_(r), cancel_(cancel) {}

  template <class T>
  void value(T& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      r_.string(v);
    } else if constexpr (std::is_same_v<T, TaskState>) {
      const std::size_t at = r_.offset();
      const auto code = r_.get<std::uint8_t>();
      if (code > 1) throw DecodeError("unknown task state " + std::to_string(code) + at_offset(at));
      v = code == 1 ? TaskState::kRunning : TaskState::kPending;
    } else if constexpr (std::is_same_v<T, UnscheduledReason>) {
      std::string text;
      r_.string(text);
      const auto reason = parse_unscheduled_reason(text);
      if (!reason) throw DecodeError("unknown reason '" + text.substr(0, 64) + "'");
      v = *reason;
    } else if constexpr (std::is_same_v<T, double>) {
      v = r_.finite();  // as JSON can carry it
    } else if constexpr (std::is_arithmetic_v<T>) {
      v = r_.get<T>();
    } else if constexpr (kIsRecord<T>) {
      visit_fields(v, *this);
    } else {
      r_.map(v, [this](auto& x) { value(x); });
    }
  }

  template <class T>
  void list(std::vector<T>& v, CountLimit limit) {
    const std::size_t n = r_.length(MinBytes<T>::value, limit);
    if constexpr (std::is_same_v<T, Task>) {
      tasks_seen_ += static_cast<std::int64_t>(n);
      if (tasks_seen_ > r_.limits().max_tasks) {
        throw DecodeError("these " + std::to_string(n) + " tasks bring the total to " + std::to_string(tasks_seen_) +
                          ", above max_tasks (" + std::to_string(r_.limits().max_tasks) + ")");
      }
    }
    v.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<T, Machine> || std::is_same_v<T, Job> || std::is_same_v<T, Task>) check_cancel();
      element(i, [&] { value(v[i]); });
    }
  }

  template <class T>
  void operator()(const char* name, T& v, ListLimit limit) {
    field(name, [&] {
      if constexpr (kIsVector<T>) {
        list(v, count_limit(r_.limits(), limit));
      } else {
        value(v);
      }
    });
  }

 private:
  void check_cancel() {
    if ((++records_ & 4095) == 0 && cancel_ != nullptr && cancel_->load(std::memory_order_relaxed)) {
      throw DecodeCancelled{};
    }
  }

  ByteReader& r_;
  const std::atomic<bool>* cancel_;
  std::size_t records_ = 0;
  std::int64_t tasks_seen_ = 0;
};

void write_snapshot(ByteWriter& w, const Snapshot& s) {
  RecordWriter out{w};
  out.value(kSnapshotFormat);
  out.value(s.version);
  out.value(s.time);
  out.value(s.machines);
  out.value(s.jobs);
}

}  // namespace

std::string encode_snapshot_binary(const Snapshot& s) {
  return encode_exact([&](ByteWriter& w) { write_snapshot(w, s); });
}

void decode_snapshot_binary(std::string_view bytes, const SnapshotLimits& limits, Snapshot& s,
                            const std::atomic<bool>* cancel) {
  ByteReader r(bytes, limits);
  RecordReader in(r, cancel);
  field("format", [&] {
    const auto format = r.get<std::int32_t>();
    if (format != kSnapshotFormat) {
      throw DecodeError("unsupported format " + std::to_string(format) + " (this build reads " +
                        std::to_string(kSnapshotFormat) + ")");
    }
  });
  in("version", s.version, ListLimit::kNone);
  in("time", s.time, ListLimit::kNone);
  in("machines", s.machines, ListLimit::kMachines);
  field("jobs", [&] { in.list(s.jobs, CountLimit{limits.max_jobs, "max_jobs"}); });
  if (r.remaining() != 0) {
    throw DecodeError(std::to_string(r.remaining()) + " bytes left over after the snapshot (at byte offset " +
                      std::to_string(r.offset()) + ")");
  }
}

// ---- Allocation (docs/protocol.md, "Allocate reply") ------------------------------------

namespace {

// Version 1 bodies stop the network record at `repaired`; version 2 adds the re-solve
// counts after it (docs/protocol.md, "Versions").
void write_allocation(ByteWriter& w, const Allocation& a, std::uint16_t version) {
  RecordWriter out{w};
  w.string(to_string(a.status));
  w.string(a.message);
  w.put(a.snapshot_version);
  w.string(to_string(a.cost_model));
  w.string(a.backend);
  w.string(a.algorithm);
  w.boolean(a.fell_back);
  w.string(a.fallback_reason);
  w.put(a.objective);
  out.value(a.timings);
  out.value(a.stats);
  if (version >= 2) visit_fields_since_v2(a.stats, out);
  w.boolean(a.certificate.has_value());
  if (a.certificate) {
    const Certificate& c = *a.certificate;
    w.boolean(c.feasible);
    w.boolean(c.complementary_slackness);
    w.boolean(c.costs_equal);
    w.string(c.primal_cost);
    w.string(c.dual_cost);
    w.string(c.message);
  }
  out.value(a.placements);
  out.value(a.kept);
  out.value(a.migrations);
  out.value(a.preemptions);
  out.value(a.unscheduled);
}

}  // namespace

std::string encode_allocation_binary(const Allocation& a, std::uint16_t version) {
  return encode_exact([&](ByteWriter& w) { write_allocation(w, a, version); });
}

namespace {

void read_allocation(ByteReader& r, Allocation& a, std::uint16_t version) {
  RecordReader in(r, nullptr);
  std::string text;
  field("status", [&] {
    r.string(text);
    const auto st = parse_status(text);
    if (!st) throw DecodeError("unknown status '" + text.substr(0, 64) + "'");
    a.status = *st;
  });
  in("message", a.message, ListLimit::kNone);
  in("snapshot_version", a.snapshot_version, ListLimit::kNone);
  field("cost_model", [&] {
    r.string(text);
    const auto m = parse_cost_model(text);
    if (!m) throw DecodeError("unknown cost model '" + text.substr(0, 64) + "'");
    a.cost_model = *m;
  });
  in("backend", a.backend, ListLimit::kNone);
  in("algorithm", a.algorithm, ListLimit::kNone);
  field("fell_back", [&] { a.fell_back = r.boolean(); });
  in("fallback_reason", a.fallback_reason, ListLimit::kNone);
  in("objective", a.objective, ListLimit::kNone);
  in("timings", a.timings, ListLimit::kNone);
  field("network", [&] {
    in.value(a.stats);
    if (version >= 2) visit_fields_since_v2(a.stats, in);
  });
  bool has_certificate = false;
  field("has_certificate", [&] { has_certificate = r.boolean(); });
  if (has_certificate) {
    field("certificate", [&] {
      Certificate c;
      c.feasible = r.boolean();
      c.complementary_slackness = r.boolean();
      c.costs_equal = r.boolean();
      r.string(c.primal_cost);
      r.string(c.dual_cost);
      r.string(c.message);
      a.certificate = std::move(c);
    });
  }
  in("placements", a.placements, ListLimit::kNone);
  in("kept", a.kept, ListLimit::kNone);
  in("migrations", a.migrations, ListLimit::kNone);
  in("preemptions", a.preemptions, ListLimit::kNone);
  in("unscheduled", a.unscheduled, ListLimit::kNone);
}

}  // namespace

void decode_allocation_binary(std::string_view bytes, const SnapshotLimits& limits, Allocation& a,
                              std::uint16_t version) {
  ByteReader r(bytes, limits);
  read_allocation(r, a, version);
  if (r.remaining() != 0) {
    throw DecodeError(std::to_string(r.remaining()) + " bytes left over after the allocation (at byte offset " +
                      std::to_string(r.offset()) + ")");
  }
}

// ---- Indexed allocation (docs/protocol.md, "Indexed replies") ----------------------------
// [the allocation as above, its five lists empty] then columns: for each of placements,
// kept and migrations: u64 n, u32 task[n], u32 machine[n], u32 gpu_begin[n + 1], u64 g,
// i32 gpu_indexes[g]; u32 migrated_from[n_migrations]; preemptions: u64 n, u32 task[n],
// u32 machine[n], u32 reason[n]; unscheduled: u64 n, u32 task[n], u8 reason[n],
// u32 message[n]; messages: u64 n, n strings.

namespace {

void write_indexed_placements(ByteWriter& w, const IndexedPlacements& list) {
  w.length(list.size());
  w.column(list.task);
  w.column(list.machine);
  w.column(list.gpu_begin);
  w.length(list.gpu_indexes.size());
  w.column(list.gpu_indexes);
}

void read_indexed_placements(ByteReader& r, IndexedPlacements& list) {
  const std::size_t n = r.length(12);  // task, machine and gpu_begin: 12 bytes an entry
  field("task", [&] { r.column(list.task, n); });
  field("machine", [&] { r.column(list.machine, n); });
  field("gpu_begin", [&] { r.column(list.gpu_begin, n + 1); });
  field("gpu_indexes", [&] {
    const std::size_t g = r.length(4);
    r.column(list.gpu_indexes, g);
  });
  const auto max_gpus = static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.limits().max_gpus_per_machine));
  if (list.gpu_begin.front() != 0 || list.gpu_begin.back() != list.gpu_indexes.size()) {
    throw DecodeError("gpu_begin must run from 0 to the number of GPU indexes (" +
                      std::to_string(list.gpu_indexes.size()) + ")");
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (list.gpu_begin[i + 1] < list.gpu_begin[i] || list.gpu_begin[i + 1] - list.gpu_begin[i] > max_gpus) {
      DecodeError e("gpu_begin must not decrease, nor give an entry more than max_gpus_per_machine (" +
                    std::to_string(max_gpus) + ") GPUs");
      e.add_index(i);
      throw e;
    }
  }
}

}  // namespace

std::string encode_indexed_allocation_binary(const IndexedAllocation& a, std::uint16_t version) {
  static_assert(sizeof(UnscheduledReason) >= 1);
  std::vector<std::uint8_t> reasons(a.unscheduled_reason.size());
  for (std::size_t i = 0; i < reasons.size(); ++i) reasons[i] = static_cast<std::uint8_t>(a.unscheduled_reason[i]);
  return encode_exact([&](ByteWriter& w) {
    write_allocation(w, a.summary, version);
    write_indexed_placements(w, a.placements);
    write_indexed_placements(w, a.kept);
    write_indexed_placements(w, a.migrations);
    w.column(a.migrated_from);
    w.length(a.preempted_task.size());
    w.column(a.preempted_task);
    w.column(a.preempted_machine);
    w.column(a.preempted_reason);
    w.length(a.unscheduled_task.size());
    w.column(a.unscheduled_task);
    w.column(reasons);
    w.column(a.unscheduled_message);
    w.length(a.messages.size());
    for (const std::string& m : a.messages) w.string(m);
  });
}

void decode_indexed_allocation_binary(std::string_view bytes, const SnapshotLimits& limits, IndexedAllocation& a,
                                      std::uint16_t version) {
  // The summary is an allocation body followed by more bytes: read it with a reader that
  // stops where the columns start.
  ByteReader r(bytes, limits);
  read_allocation(r, a.summary, version);
  if (!a.summary.placements.empty() || !a.summary.kept.empty() || !a.summary.migrations.empty() ||
      !a.summary.preemptions.empty() || !a.summary.unscheduled.empty()) {
    throw DecodeError("an indexed allocation carries its lists as columns: the summary's lists must be empty");
  }
  field("placements", [&] { read_indexed_placements(r, a.placements); });
  field("kept", [&] { read_indexed_placements(r, a.kept); });
  field("migrations", [&] { read_indexed_placements(r, a.migrations); });
  field("migrated_from", [&] { r.column(a.migrated_from, a.migrations.size()); });
  field("preemptions", [&] {
    const std::size_t n = r.length(12);
    r.column(a.preempted_task, n);
    r.column(a.preempted_machine, n);
    r.column(a.preempted_reason, n);
  });
  field("unscheduled", [&] {
    const std::size_t n = r.length(9);
    r.column(a.unscheduled_task, n);
    std::vector<std::uint8_t> reasons;
    r.column(reasons, n);
    a.unscheduled_reason.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (reasons[i] > static_cast<std::uint8_t>(UnscheduledReason::kOutbidByPriority)) {
        DecodeError e("unknown reason code " + std::to_string(reasons[i]));
        e.add_index(i);
        throw e;
      }
      a.unscheduled_reason[i] = static_cast<UnscheduledReason>(reasons[i]);
    }
    r.column(a.unscheduled_message, n);
  });
  field("messages", [&] {
    const std::size_t n = r.length(8);
    a.messages.resize(n);
    for (std::size_t i = 0; i < n; ++i) element(i, [&] { r.string(a.messages[i]); });
  });
  const auto check = [&](const std::vector<std::uint32_t>& refs, const char* what) {
    for (std::size_t i = 0; i < refs.size(); ++i) {
      if (refs[i] >= a.messages.size()) {
        DecodeError e("message " + std::to_string(refs[i]) + " is beyond the " + std::to_string(a.messages.size()) +
                      " messages");
        e.add_index(i);
        e.add_field(what);
        throw e;
      }
    }
  };
  check(a.preempted_reason, "preemptions");
  check(a.unscheduled_message, "unscheduled");
  if (r.remaining() != 0) {
    throw DecodeError(std::to_string(r.remaining()) + " bytes left over after the indexed allocation (at byte offset " +
                      std::to_string(r.offset()) + ")");
  }
}

}  // namespace sluice::detail
