// The cereal schema of a cluster Snapshot (sluice/snapshot.hpp), for JSON and portable
// binary archives. Internal to src/transport: snapshot_io.hpp is the public face.
//
// Every record is written with named fields so the JSON reads as documented in
// docs/snapshot.md; the binary archive writes the same fields in the same order, with a
// 64-bit length before every string, array and map.
//
// Loading is written for hostile input:
//  * containers are never read with cereal's own std::vector/std::string/std::map loads,
//    which resize to whatever length prefix the input claims; here every binary length is
//    checked against the bytes that remain (length * the fewest bytes one element can take)
//    and against SnapshotLimits before anything is allocated, so memory stays within a
//    small constant factor of the input size;
//  * JSON numbers must be integers that fit the field (cereal asserts through rapidjson,
//    which json.hpp turns into cereal::RapidJSONException; it is included first below so
//    that definition wins);
//  * every failure becomes a DecodeError that carries the field path ("jobs[0].tasks[2].
//    cpu_milli") and, for binary, the byte offset.
// The loads need a DecodeContext: run them through a ContextArchive (see decode_context).
#pragma once

// cereal parses JSON with RAPIDJSON_PARSE_DEFAULT_FLAGS (by default full precision and
// NaN/Infinity). Full precision is left out: the schema has only integers, which rapidjson
// converts exactly either way, and rapidjson 1.1.0's full-precision strtod misreads some
// numbers through clz(0) (undefined behaviour: "0e308" reads as 3e88; found by fuzz/).
#ifndef RAPIDJSON_PARSE_DEFAULT_FLAGS
#define RAPIDJSON_PARSE_DEFAULT_FLAGS kParseNanAndInfFlag
#endif
// json.hpp first: it defines RAPIDJSON_ASSERT to throw instead of abort.
#include <cereal/archives/json.hpp>
#include <cereal/archives/portable_binary.hpp>
#include <cereal/cereal.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <streambuf>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/snapshot.hpp"
#include "wire_schema.hpp"

namespace sluice {

// The schema version written as "format"; decoders refuse any other.
inline constexpr std::int32_t kSnapshotFormat = 1;

namespace detail {

// A read-only stream buffer over caller memory (no copy) that says how much is left.
class InputView : public std::streambuf {
 public:
  explicit InputView(std::string_view bytes) {
    char* begin = const_cast<char*>(bytes.data());  // never written through: get area only
    setg(begin, begin, begin + bytes.size());
  }
  // Chunked: the bytes are handed out a chunk at a time, and before each chunk the cancel
  // flag is looked at; once it is raised the input ends there (cancelled() says why).
  InputView(std::string_view bytes, std::size_t chunk, const std::atomic<bool>* cancel)
      : bytes_(bytes), chunk_(chunk), cancel_(cancel) {
    char* begin = const_cast<char*>(bytes.data());
    setg(begin, begin, begin + std::min(chunk, bytes.size()));
  }
  [[nodiscard]] std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
  [[nodiscard]] std::size_t offset() const { return static_cast<std::size_t>(gptr() - eback()); }
  [[nodiscard]] bool cancelled() const { return cancelled_; }

 protected:
  int_type underflow() override {
    if (chunk_ == 0 || egptr() == bytes_.data() + bytes_.size()) return traits_type::eof();
    if (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed)) {
      cancelled_ = true;
      return traits_type::eof();
    }
    char* next = egptr();
    const std::size_t left = static_cast<std::size_t>(bytes_.data() + bytes_.size() - next);
    setg(const_cast<char*>(bytes_.data()), next, next + std::min(chunk_, left));
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string_view bytes_;
  std::size_t chunk_ = 0;  // 0: one get area over everything
  const std::atomic<bool>* cancel_ = nullptr;
  bool cancelled_ = false;
};

// Thrown by a decoder that saw the caller's cancel flag raised; not a DecodeError, so no
// field path is added on its way out.
struct DecodeCancelled {};

// What the loads need besides the archive: the limits, for binary the input view, and the
// caller's cancel flag (looked at every 4096 array elements).
struct DecodeContext {
  SnapshotLimits limits;
  const InputView* input = nullptr;  // binary only
  std::int64_t tasks_seen = 0;       // across all jobs, against limits.max_tasks
  const std::atomic<bool>* cancel = nullptr;
  void check_cancel(std::size_t i) const {
    if ((i & 4095) == 0 && cancel != nullptr && cancel->load(std::memory_order_relaxed)) throw DecodeCancelled{};
  }
};

// A decoding failure with the path of the field it happened in, built innermost first.
class DecodeError : public std::exception {
 public:
  explicit DecodeError(std::string message) : message_(std::move(message)) {}
  void add_field(std::string_view name) { outer_.push_back("." + std::string(name)); }
  void add_index(std::size_t i) { outer_.push_back("[" + std::to_string(i) + "]"); }
  void add_key(std::string_view key) { outer_.push_back("[\"" + std::string(key) + "\"]"); }
  [[nodiscard]] std::string path() const {
    std::string p;
    for (auto it = outer_.rbegin(); it != outer_.rend(); ++it) p += *it;
    if (!p.empty() && p.front() == '.') p.erase(0, 1);
    return p;
  }
  [[nodiscard]] std::string text() const {
    const std::string p = path();
    return p.empty() ? message_ : p + ": " + message_;
  }
  [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
  std::vector<std::string> outer_;  // innermost first
};

// An input archive that carries a DecodeContext. cereal hands the loads the base archive
// type; decode_context() finds the context again.
template <class Base>
class ContextArchive final : public Base {
 public:
  ContextArchive(DecodeContext& context, std::istream& stream) : Base(stream), context_(context) {}
  [[nodiscard]] DecodeContext& context() { return context_; }

 private:
  DecodeContext& context_;
};

template <class Archive>
DecodeContext& decode_context(Archive& ar) {
  if (auto* with = dynamic_cast<ContextArchive<Archive>*>(&ar)) return with->context();
  throw DecodeError("internal: snapshot loads need a ContextArchive");
}

template <class Archive>
inline constexpr bool kJsonArchive = std::is_base_of_v<cereal::JSONInputArchive, Archive> ||
                                     std::is_base_of_v<cereal::JSONOutputArchive, Archive>;

// The fewest bytes one element takes in the binary format (length prefixes are 8 bytes,
// strings may be empty). A length n is accepted only if n * this <= bytes remaining.
// The unit tests check these against the encoder by decoding minimal records that end
// exactly at the end of the input.
template <class T> struct MinBytes;
template <> struct MinBytes<char> { static constexpr std::size_t value = 1; };
template <> struct MinBytes<std::int32_t> { static constexpr std::size_t value = 4; };
template <> struct MinBytes<std::string> { static constexpr std::size_t value = 8; };
template <> struct MinBytes<Gpu> { static constexpr std::size_t value = 4 + 8 + 4; };
template <> struct MinBytes<Preference> { static constexpr std::size_t value = 8 + 8; };
// id, rack, zone; four amounts; gpus, extra_capacity, extra_free, labels
template <> struct MinBytes<Machine> { static constexpr std::size_t value = 3 * 8 + 4 * 8 + 4 * 8; };
// id, cpu, memory, gpus, gpu_milli, gpu_models, extra, selector, two preference lists,
// state (one byte), machine, gpu_indexes
template <> struct MinBytes<Task> {
  static constexpr std::size_t value = 8 + 8 + 8 + 4 + 4 + 8 + 8 + 8 + 8 + 8 + 1 + 8 + 8;
};
// id, priority, submit_time, tasks
template <> struct MinBytes<Job> { static constexpr std::size_t value = 8 + 4 + 8 + 8; };
template <class V> struct MinBytes<std::pair<const std::string, V>> {
  static constexpr std::size_t value = 8 + MinBytes<V>::value;
};
template <> struct MinBytes<std::int64_t> { static constexpr std::size_t value = 8; };
// The allocation reply's records (read by binary_codec.cpp): each of their strings and
// lists takes at least its 8-byte length.
template <> struct MinBytes<Placement> { static constexpr std::size_t value = 4 * 8; };
template <> struct MinBytes<Migration> { static constexpr std::size_t value = 5 * 8; };
template <> struct MinBytes<Preemption> { static constexpr std::size_t value = 4 * 8; };
template <> struct MinBytes<Unscheduled> { static constexpr std::size_t value = 4 * 8; };

// A count limit for one container: the largest length accepted and the limit's name.
struct CountLimit {
  std::int64_t max = -1;  // < 0: bounded by the input only
  const char* name = nullptr;
};

// ---- Saving -------------------------------------------------------------------------

template <class Archive> void write_string(Archive& ar, const std::string& s) {
  if constexpr (kJsonArchive<Archive>) {
    ar(s);
  } else {
    ar(cereal::make_size_tag(static_cast<cereal::size_type>(s.size())));
    ar(cereal::binary_data(s.data(), s.size()));
  }
}

template <class Archive, class T> void write_value(Archive& ar, const T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    write_string(ar, value);
  } else if constexpr (std::is_same_v<T, TaskState>) {
    if constexpr (kJsonArchive<Archive>) {
      ar(std::string(value == TaskState::kRunning ? "running" : "pending"));
    } else {
      ar(static_cast<std::uint8_t>(value == TaskState::kRunning ? 1 : 0));
    }
  } else {
    ar(value);  // arithmetic, or a record with its own save()
  }
}

template <class Archive, class T> void write_field(Archive& ar, const char* name, const T& value) {
  if constexpr (kJsonArchive<Archive>) ar.setNextName(name);
  write_value(ar, value);
}

template <class Archive, class T>
void write_field(Archive& ar, const char* name, const std::vector<T>& values) {
  if constexpr (kJsonArchive<Archive>) {
    ar.setNextName(name);
    ar.startNode();
    ar.makeArray();
    for (const T& v : values) write_value(ar, v);
    ar.finishNode();
  } else {
    ar(cereal::make_size_tag(static_cast<cereal::size_type>(values.size())));
    for (const T& v : values) write_value(ar, v);
  }
}

// Maps are JSON objects ({"ssd_gib": 100}); in binary, a length and key/value pairs.
template <class Archive, class V>
void write_field(Archive& ar, const char* name, const std::map<std::string, V>& values) {
  if constexpr (kJsonArchive<Archive>) {
    ar.setNextName(name);
    ar.startNode();
    for (const auto& [key, value] : values) {
      ar.setNextName(key.c_str());
      write_value(ar, value);
    }
    ar.finishNode();
  } else {
    ar(cereal::make_size_tag(static_cast<cereal::size_type>(values.size())));
    for (const auto& [key, value] : values) {
      write_string(ar, key);
      write_value(ar, value);
    }
  }
}

// ---- Loading ------------------------------------------------------------------------

template <class T> const char* expected_kind() {
  if constexpr (std::is_same_v<T, std::int64_t>) {
    return "expected an integer";
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    return "expected an integer from -2147483648 to 2147483647";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return "expected a string";
  } else if constexpr (std::is_same_v<T, TaskState>) {
    return "expected \"pending\" or \"running\"";
  } else {
    return "expected an object";
  }
}

// Turns a cereal failure at this level into a DecodeError. In JSON a RapidJSONException
// here means the value has the wrong type (deeper levels have converted their own).
template <class Archive>
DecodeError translate(Archive& ar, const cereal::Exception& e, const char* expected) {
  if constexpr (kJsonArchive<Archive>) {
    if (dynamic_cast<const cereal::RapidJSONException*>(&e) != nullptr) return DecodeError(expected);
    if (std::string_view(e.what()).find("provided NVP") != std::string_view::npos) {
      return DecodeError("required field is missing");
    }
    return DecodeError(e.what());
  } else {
    const DecodeContext& ctx = decode_context(ar);
    return DecodeError("input ends early at byte offset " + std::to_string(ctx.input->offset()) +
                       " (" + e.what() + ")");
  }
}

inline std::string at_offset(std::size_t offset) {
  return " (at byte offset " + std::to_string(offset) + ")";
}

// Reads a binary length prefix and refuses it unless the input can hold that many
// elements and the limit allows it; nothing is allocated before this check.
template <class Archive>
std::size_t read_length(Archive& ar, DecodeContext& ctx, std::size_t min_bytes, CountLimit limit) {
  const std::size_t offset = ctx.input->offset();
  cereal::size_type n = 0;
  ar(cereal::make_size_tag(n));
  const std::size_t remaining = ctx.input->remaining();
  if (n > remaining / min_bytes) {
    throw DecodeError("length " + std::to_string(n) + " exceeds the " + std::to_string(remaining) +
                      " bytes that remain" +
                      (min_bytes > 1 ? " (each element takes at least " + std::to_string(min_bytes) +
                                           " bytes)"
                                     : std::string()) +
                      at_offset(offset));
  }
  if (limit.max >= 0 && n > static_cast<std::uint64_t>(limit.max)) {
    throw DecodeError("length " + std::to_string(n) + " exceeds " + limit.name + " (" +
                      std::to_string(limit.max) + ")" + at_offset(offset));
  }
  return static_cast<std::size_t>(n);
}

template <class Archive> void read_string(Archive& ar, DecodeContext& ctx, std::string& s) {
  const CountLimit limit{ctx.limits.max_string_bytes, "max_string_bytes"};
  if constexpr (kJsonArchive<Archive>) {
    ar(s);
    if (static_cast<std::int64_t>(s.size()) > limit.max) {
      throw DecodeError("string of " + std::to_string(s.size()) + " bytes exceeds max_string_bytes (" +
                        std::to_string(limit.max) + ")");
    }
  } else {
    const std::size_t n = read_length(ar, ctx, 1, limit);
    s.resize(n);
    ar(cereal::binary_data(s.data(), n));
  }
}

template <class Archive, class T> void read_value(Archive& ar, DecodeContext& ctx, T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    read_string(ar, ctx, value);
  } else if constexpr (std::is_same_v<T, TaskState>) {
    if constexpr (kJsonArchive<Archive>) {
      std::string text;
      ar(text);
      if (text == "pending") {
        value = TaskState::kPending;
      } else if (text == "running") {
        value = TaskState::kRunning;
      } else {
        throw DecodeError("expected \"pending\" or \"running\", got \"" + text.substr(0, 64) + "\"");
      }
    } else {
      const std::size_t offset = ctx.input->offset();
      std::uint8_t code = 0;
      ar(code);
      if (code > 1) {
        throw DecodeError("unknown task state " + std::to_string(code) + at_offset(offset));
      }
      value = code == 1 ? TaskState::kRunning : TaskState::kPending;
    }
  } else {
    ar(value);  // arithmetic, or a record with its own load()
  }
}

// Runs one step, naming it in any error that comes out.
template <class Archive, class Step, class Name>
void named_step(Archive& ar, const Name& name, const char* expected, Step&& step) {
  auto add = [&](DecodeError& e) {
    if constexpr (std::is_integral_v<Name>) {
      e.add_index(name);
    } else {
      e.add_field(name);
    }
  };
  try {
    step();
  } catch (DecodeError& e) {
    add(e);
    throw;
  } catch (const cereal::Exception& ce) {
    DecodeError e = translate(ar, ce, expected);
    add(e);
    throw e;
  }
}

template <class Archive, class T>
void read_field(Archive& ar, DecodeContext& ctx, const char* name, T& value) {
  named_step(ar, std::string_view(name), expected_kind<T>(), [&] {
    if constexpr (kJsonArchive<Archive>) ar.setNextName(name);
    read_value(ar, ctx, value);
  });
}

template <class Archive, class T>
void read_field(Archive& ar, DecodeContext& ctx, const char* name, std::vector<T>& values,
                CountLimit limit = {}) {
  named_step(ar, std::string_view(name), "expected an array", [&] {
    std::size_t n = 0;
    if constexpr (kJsonArchive<Archive>) {
      ar.setNextName(name);
      ar.startNode();
      cereal::size_type size = 0;
      ar.loadSize(size);  // throws (RapidJSONException) unless the node is an array
      if (limit.max >= 0 && size > static_cast<std::uint64_t>(limit.max)) {
        throw DecodeError(std::to_string(size) + " elements exceed " + limit.name + " (" +
                          std::to_string(limit.max) + ")");
      }
      n = static_cast<std::size_t>(size);
    } else {
      n = read_length(ar, ctx, MinBytes<T>::value, limit);
    }
    if constexpr (std::is_same_v<T, Task>) {
      ctx.tasks_seen += static_cast<std::int64_t>(n);
      if (ctx.tasks_seen > ctx.limits.max_tasks) {
        throw DecodeError("these " + std::to_string(n) + " tasks bring the total to " +
                          std::to_string(ctx.tasks_seen) + ", above max_tasks (" +
                          std::to_string(ctx.limits.max_tasks) + ")");
      }
    }
    values.clear();
    values.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      ctx.check_cancel(i);
      named_step(ar, i, expected_kind<T>(), [&] { read_value(ar, ctx, values[i]); });
    }
    if constexpr (kJsonArchive<Archive>) ar.finishNode();
  });
}

template <class Archive, class V>
void read_field(Archive& ar, DecodeContext& ctx, const char* name, std::map<std::string, V>& values) {
  named_step(ar, std::string_view(name), "expected an object", [&] {
    values.clear();
    auto insert = [&](std::string key, V value) {
      const auto [it, inserted] = values.emplace(std::move(key), std::move(value));
      if (!inserted) {
        DecodeError e("duplicate key");
        e.add_key(it->first);
        throw e;
      }
    };
    auto value_step = [&](const std::string& key, V& value) {
      try {
        read_value(ar, ctx, value);
      } catch (DecodeError& e) {
        e.add_key(key);
        throw;
      } catch (const cereal::Exception& ce) {
        DecodeError e = translate(ar, ce, expected_kind<V>());
        e.add_key(key);
        throw e;
      }
    };
    if constexpr (kJsonArchive<Archive>) {
      // The JSON pre-check (snapshot_codec.cpp) has made sure map fields are objects, so
      // an array cannot pass here as an empty map.
      ar.setNextName(name);
      ar.startNode();
      while (const char* raw_key = ar.getNodeName()) {
        std::string key(raw_key);
        if (static_cast<std::int64_t>(key.size()) > ctx.limits.max_string_bytes) {
          throw DecodeError("key of " + std::to_string(key.size()) + " bytes exceeds max_string_bytes (" +
                            std::to_string(ctx.limits.max_string_bytes) + ")");
        }
        V value{};
        value_step(key, value);  // unnamed: the member at the current position
        insert(std::move(key), std::move(value));
      }
      ar.finishNode();
    } else {
      const std::size_t n =
          read_length(ar, ctx, MinBytes<std::pair<const std::string, V>>::value, CountLimit{});
      for (std::size_t i = 0; i < n; ++i) {
        std::string key;
        named_step(ar, i, "expected a key", [&] { read_string(ar, ctx, key); });
        V value{};
        value_step(key, value);
        insert(std::move(key), std::move(value));
      }
    }
  });
}

}  // namespace detail

// ---- Records ------------------------------------------------------------------------
// The fields of each record are listed once, in wire_schema.hpp. Field order matters
// only for speed (JSON members in this order are found without a search) and for the
// binary format (where it is the format).

namespace detail {

template <class Archive, class R> void save_fields(Archive& ar, const R& record) {
  visit_fields(record, [&](const char* name, const auto& value, ListLimit) { write_field(ar, name, value); });
}

// The SnapshotLimits entry a list field is read under (shared with binary_codec.cpp).
inline CountLimit count_limit(const SnapshotLimits& limits, ListLimit limit) {
  switch (limit) {
    case ListLimit::kMachines: return CountLimit{limits.max_machines, "max_machines"};
    case ListLimit::kGpusPerMachine: return CountLimit{limits.max_gpus_per_machine, "max_gpus_per_machine"};
    case ListLimit::kNone: break;
  }
  return CountLimit{};
}

template <class T> inline constexpr bool kIsVector = false;
template <class T> inline constexpr bool kIsVector<std::vector<T>> = true;

template <class Archive, class R> void load_fields(Archive& ar, R& record) {
  DecodeContext& ctx = decode_context(ar);
  visit_fields(record, [&](const char* name, auto& value, ListLimit limit) {
    if constexpr (kIsVector<std::remove_cvref_t<decltype(value)>>) {
      read_field(ar, ctx, name, value, count_limit(ctx.limits, limit));
    } else {
      read_field(ar, ctx, name, value);
    }
  });
}

}  // namespace detail

template <class Archive> void save(Archive& ar, const Gpu& gpu) { detail::save_fields(ar, gpu); }
template <class Archive> void load(Archive& ar, Gpu& gpu) { detail::load_fields(ar, gpu); }
template <class Archive> void save(Archive& ar, const Machine& m) { detail::save_fields(ar, m); }
template <class Archive> void load(Archive& ar, Machine& m) { detail::load_fields(ar, m); }
template <class Archive> void save(Archive& ar, const Preference& p) { detail::save_fields(ar, p); }
template <class Archive> void load(Archive& ar, Preference& p) { detail::load_fields(ar, p); }
template <class Archive> void save(Archive& ar, const Task& t) { detail::save_fields(ar, t); }
template <class Archive> void load(Archive& ar, Task& t) { detail::load_fields(ar, t); }
template <class Archive> void save(Archive& ar, const Job& job) { detail::save_fields(ar, job); }
template <class Archive> void load(Archive& ar, Job& job) { detail::load_fields(ar, job); }

// A Snapshot's fields go straight into the current node: called on a fresh archive they
// form the top-level JSON object {"format": 1, "version": ..., ...}.
template <class Archive> void save(Archive& ar, const Snapshot& s) {
  detail::write_field(ar, "format", kSnapshotFormat);
  detail::write_field(ar, "version", s.version);
  detail::write_field(ar, "time", s.time);
  detail::write_field(ar, "machines", s.machines);
  detail::write_field(ar, "jobs", s.jobs);
}
template <class Archive> void load(Archive& ar, Snapshot& s) {
  detail::DecodeContext& ctx = detail::decode_context(ar);
  std::int32_t format = 0;
  detail::read_field(ar, ctx, "format", format);
  if (format != kSnapshotFormat) {
    detail::DecodeError e("unsupported format " + std::to_string(format) + " (this build reads " +
                          std::to_string(kSnapshotFormat) + ")");
    e.add_field("format");
    throw e;
  }
  detail::read_field(ar, ctx, "version", s.version);
  detail::read_field(ar, ctx, "time", s.time);
  detail::read_field(ar, ctx, "machines", s.machines,
                     detail::CountLimit{ctx.limits.max_machines, "max_machines"});
  detail::read_field(ar, ctx, "jobs", s.jobs, detail::CountLimit{ctx.limits.max_jobs, "max_jobs"});
}

}  // namespace sluice
