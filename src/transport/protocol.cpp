// The wire protocol's codecs (sluice/protocol.hpp, docs/protocol.md): the fixed 48-byte
// envelope, request options, allocation replies, health and stats records.
//
// Over 700 lines because it holds every body's JSON and binary codec but the snapshot's: the
// options, health and stats records are listed once here (visit_options, visit_health,
// visit_stats) for all four codecs; the allocation reply's records come from
// wire_schema.hpp, and its JSON reader is here (its writer: allocation_json.cpp).
//
// Every decoder treats its input as hostile, like the snapshot codec: nothing throws out,
// binary lengths are checked against the bytes that remain before anything is allocated
// (the snapshot schema's helpers in snapshot_cereal.hpp do this), JSON goes through
// rapidjson's iterative parser (no recursion on deep input) and every field's type is
// checked, and errors name the field.
#include "snapshot_cereal.hpp"  // first: cereal's json.hpp sets RAPIDJSON_ASSERT to throw

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <sstream>
#include <system_error>

#include "binary_codec.hpp"
#include "json_keys.hpp"
#include "wire_schema.hpp"
#include "sluice/protocol.hpp"

namespace sluice {

// ---- Names ----------------------------------------------------------------------------

std::string_view to_string(MessageType t) {
  switch (t) {
    case MessageType::kAllocate: return "allocate";
    case MessageType::kHealth: return "health";
    case MessageType::kStats: return "stats";
    case MessageType::kAllocateReply: return "allocate-reply";
    case MessageType::kHealthReply: return "health-reply";
    case MessageType::kStatsReply: return "stats-reply";
    case MessageType::kError: return "error";
  }
  return "unknown";
}

std::string_view to_string(BodyFormat f) { return f == BodyFormat::kJson ? "json" : "binary"; }

std::optional<BodyFormat> parse_body_format(std::string_view name) {
  if (name == "json") return BodyFormat::kJson;
  if (name == "binary" || name == "bin") return BodyFormat::kBinary;
  return std::nullopt;
}

std::string_view to_string(ReplyCode c) {
  switch (c) {
    case ReplyCode::kOk: return "ok";
    case ReplyCode::kMalformed: return "malformed";
    case ReplyCode::kInvalidSnapshot: return "invalid-snapshot";
    case ReplyCode::kBusy: return "busy";
    case ReplyCode::kStaleEpoch: return "stale-epoch";
    case ReplyCode::kDeadlineExceeded: return "deadline-exceeded";
    case ReplyCode::kShuttingDown: return "shutting-down";
    case ReplyCode::kTooLarge: return "too-large";
    case ReplyCode::kUnsupportedVersion: return "unsupported-version";
    case ReplyCode::kSolveFailed: return "solve-failed";
    case ReplyCode::kInternal: return "internal";
    case ReplyCode::kUnauthorized: return "unauthorized";
  }
  return "unknown";
}

// ---- Envelope -------------------------------------------------------------------------
// Offsets: 0 magic[4], 4 version u16, 6 type u8, 7 format u8, 8 request_id u64,
// 16 epoch u64, 24 snapshot_version i64, 32 code u16, 34 reserved u16 (0), 36 flags u32,
// 40 body_bytes u64. Little-endian.

namespace {

template <class T>
void put_le(std::string& out, std::size_t offset, T value) {
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(value);
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out[offset + i] = static_cast<char>(u & 0xFF);
    u = static_cast<U>(u >> 8);
  }
}

template <class T>
T get_le(std::string_view in, std::size_t offset) {
  using U = std::make_unsigned_t<T>;
  U u = 0;
  for (std::size_t i = sizeof(T); i-- > 0;) {
    u = static_cast<U>((u << 8) | static_cast<unsigned char>(in[offset + i]));
  }
  return static_cast<T>(u);
}

bool known_type(std::uint8_t t) {
  switch (static_cast<MessageType>(t)) {
    case MessageType::kAllocate:
    case MessageType::kHealth:
    case MessageType::kStats:
    case MessageType::kAllocateReply:
    case MessageType::kHealthReply:
    case MessageType::kStatsReply:
    case MessageType::kError: return true;
  }
  return false;
}

}  // namespace

std::string encode_envelope(const Envelope& e) {
  std::string out(kEnvelopeBytes, '\0');
  std::memcpy(out.data(), kProtocolMagic, 4);
  put_le<std::uint16_t>(out, 4, e.version);
  put_le<std::uint8_t>(out, 6, static_cast<std::uint8_t>(e.type));
  put_le<std::uint8_t>(out, 7, static_cast<std::uint8_t>(e.format));
  put_le<std::uint64_t>(out, 8, e.request_id);
  put_le<std::uint64_t>(out, 16, e.epoch);
  put_le<std::int64_t>(out, 24, e.snapshot_version);
  put_le<std::uint16_t>(out, 32, static_cast<std::uint16_t>(e.code));
  put_le<std::uint32_t>(out, 36, e.flags);
  put_le<std::uint64_t>(out, 40, e.body_bytes);
  return out;
}

EnvelopeDecodeResult decode_envelope(std::string_view frame) {
  EnvelopeDecodeResult r;
  r.code = ReplyCode::kMalformed;
  if (frame.size() != kEnvelopeBytes) {
    r.error = "envelope is " + std::to_string(frame.size()) + " bytes, expected " +
              std::to_string(kEnvelopeBytes);
    return r;
  }
  if (std::memcmp(frame.data(), kProtocolMagic, 4) != 0) {
    r.error = "bad magic: the envelope must start with \"SLCE\"";
    return r;
  }
  Envelope& e = r.envelope;
  e.version = get_le<std::uint16_t>(frame, 4);
  if (e.version < kOldestProtocolVersion || e.version > kProtocolVersion) {
    r.code = ReplyCode::kUnsupportedVersion;
    r.error = "protocol version " + std::to_string(e.version) + " is not supported (this service speaks " +
              std::to_string(kOldestProtocolVersion) + " to " + std::to_string(kProtocolVersion) + ")";
    return r;
  }
  const auto type = get_le<std::uint8_t>(frame, 6);
  if (!known_type(type)) {
    r.error = "unknown message type " + std::to_string(type);
    return r;
  }
  e.type = static_cast<MessageType>(type);
  const auto format = get_le<std::uint8_t>(frame, 7);
  if (format > 1) {
    r.error = "unknown body format " + std::to_string(format) + " (0 binary, 1 JSON)";
    return r;
  }
  e.format = static_cast<BodyFormat>(format);
  e.request_id = get_le<std::uint64_t>(frame, 8);
  e.epoch = get_le<std::uint64_t>(frame, 16);
  e.snapshot_version = get_le<std::int64_t>(frame, 24);
  const auto code = get_le<std::uint16_t>(frame, 32);
  if (code > static_cast<std::uint16_t>(ReplyCode::kUnauthorized)) {
    r.error = "unknown reply code " + std::to_string(code);
    return r;
  }
  e.code = static_cast<ReplyCode>(code);
  if (get_le<std::uint16_t>(frame, 34) != 0) {
    r.error = "reserved bytes 34..35 must be zero";
    return r;
  }
  e.flags = get_le<std::uint32_t>(frame, 36);
  e.body_bytes = get_le<std::uint64_t>(frame, 40);
  r.ok = true;
  r.code = ReplyCode::kOk;
  return r;
}

// ---- Flat records: one field list, three codecs ----------------------------------------
// A record lists its fields once (visit_fields); a JSON writer, a JSON reader and a binary
// archive walk that list. Field kinds: std::string, bool, std::int32_t, std::int64_t,
// std::uint64_t, double.

namespace {

class JsonOut {
 public:
  JsonOut() : writer_(buffer_) { writer_.StartObject(); }
  void operator()(const char* name, const std::string& v) {
    writer_.Key(name);
    writer_.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  }
  void operator()(const char* name, bool v) {
    writer_.Key(name);
    writer_.Bool(v);
  }
  void operator()(const char* name, std::int32_t v) {
    writer_.Key(name);
    writer_.Int(v);
  }
  void operator()(const char* name, std::int64_t v) {
    writer_.Key(name);
    writer_.Int64(v);
  }
  void operator()(const char* name, std::uint64_t v) {
    writer_.Key(name);
    writer_.Uint64(v);
  }
  void operator()(const char* name, double v) {
    writer_.Key(name);
    writer_.Double(v);
  }
  std::string finish() {
    writer_.EndObject();
    return std::string(buffer_.GetString(), buffer_.GetSize());
  }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

struct FieldError {
  std::string text;
};

// Builds the document with every number converted here, by std::from_chars (exact and
// correctly rounded), not by rapidjson: rapidjson 1.1.0's full-precision strtod normalizes a
// zero significand with clz(0), so "0e308" reads as 3e88 and "-0e300" as a positive number,
// and a significand of 2^64-1 rounded up wraps to zero the same way (found by fuzz/protocol_fuzz).
// Integers keep rapidjson's typing: int64 or uint64 when they fit, else a double.
class ExactNumbers {
 public:
  explicit ExactNumbers(rapidjson::Document& doc) : doc_(doc) {}
  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(std::int64_t i) { return doc_.Int64(i); }
  bool Uint64(std::uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const char* text, rapidjson::SizeType length, bool) {
    const char* const end = text + length;
    if (std::find_if(text, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == end) {
      if (*text == '-') {
        std::int64_t v = 0;
        if (const auto r = std::from_chars(text, end, v); r.ec == std::errc{} && r.ptr == end) return doc_.Int64(v);
      } else {
        std::uint64_t v = 0;
        if (const auto r = std::from_chars(text, end, v); r.ec == std::errc{} && r.ptr == end) return doc_.Uint64(v);
      }
    }
    double d = 0;
    const auto r = std::from_chars(text, end, d);
    if (r.ec != std::errc{} || r.ptr != end) {
      error_ = "number " + std::string(text, std::min<std::size_t>(length, 64)) + " is out of range";
      return false;
    }
    return doc_.Double(d);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return doc_.String(s, n, copy); }
  bool StartObject() {
    keys_.open();
    return doc_.StartObject();
  }
  // A member name twice in one object is refused (json_keys.hpp).
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    if (!keys_.insert(std::string_view(s, n))) {
      error_ = "member \"" + std::string(s, std::min<std::size_t>(n, 64)) + "\" appears twice in one object";
      return false;
    }
    return doc_.Key(s, n, copy);
  }
  bool EndObject(rapidjson::SizeType members) {
    keys_.close();
    return doc_.EndObject(members);
  }
  bool StartArray() { return doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) { return doc_.EndArray(elements); }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  rapidjson::Document& doc_;
  std::string error_;
  detail::JsonKeyStack keys_;
};

constexpr unsigned kJsonParseFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;

// Parses a JSON object; throws FieldError naming the syntax error.
rapidjson::Document parse_object(std::string_view bytes) {
  // rapidjson stops at a NUL as if the text ended there, so '{}\0garbage' would pass; a raw
  // NUL is never valid JSON (in a string it is written \u0000).
  if (const std::size_t nul = bytes.find('\0'); nul != std::string_view::npos) {
    throw FieldError{"JSON syntax error at byte offset " + std::to_string(nul) + ": a NUL byte"};
  }
  rapidjson::Document doc;
  rapidjson::ParseResult result;
  ExactNumbers handler(doc);
  auto generate = [&](rapidjson::Document&) {
    rapidjson::MemoryStream stream(bytes.data(), bytes.size());
    rapidjson::Reader reader;
    result = reader.Parse<kJsonParseFlags>(stream, handler);
    return !result.IsError();
  };
  doc.Populate(generate);
  if (result.IsError()) {
    throw FieldError{"JSON syntax error at byte offset " + std::to_string(result.Offset()) + ": " +
                     (handler.error().empty() ? std::string(rapidjson::GetParseError_En(result.Code()))
                                              : handler.error())};
  }
  if (!doc.IsObject()) throw FieldError{"the body must be a JSON object"};
  return doc;
}

// A JSON string is held to the binary format's limit, so both formats accept the same
// records (found by fuzz/protocol_fuzz: a 4270-byte string decoded from JSON only).
void check_length(const char* name, const rapidjson::Value& string, std::int64_t max_bytes) {
  if (static_cast<std::int64_t>(string.GetStringLength()) > max_bytes) {
    throw FieldError{std::string(name) + ": string of " + std::to_string(string.GetStringLength()) +
                     " bytes exceeds max_string_bytes (" + std::to_string(max_bytes) + ")"};
  }
}

// Reads fields from a JSON object. With `all_required`, a missing field is an error;
// fields the record does not know are always refused.
class JsonIn {
 public:
  JsonIn(const rapidjson::Value& object, bool all_required) : object_(object), all_required_(all_required) {}

  void operator()(const char* name, std::string& v) {
    if (const auto* m = find(name)) {
      if (!m->IsString()) fail(name, "expected a string");
      check_length(name, *m, SnapshotLimits{}.max_string_bytes);  // as the binary reader
      v.assign(m->GetString(), m->GetStringLength());
    }
  }
  void operator()(const char* name, bool& v) {
    if (const auto* m = find(name)) {
      if (!m->IsBool()) fail(name, "expected true or false");
      v = m->GetBool();
    }
  }
  void operator()(const char* name, std::int32_t& v) {
    if (const auto* m = find(name)) {
      if (!m->IsInt()) fail(name, "expected an integer from -2147483648 to 2147483647");
      v = m->GetInt();
    }
  }
  void operator()(const char* name, std::int64_t& v) {
    if (const auto* m = find(name)) {
      if (!m->IsInt64()) fail(name, "expected a 64-bit integer");
      v = m->GetInt64();
    }
  }
  void operator()(const char* name, std::uint64_t& v) {
    if (const auto* m = find(name)) {
      if (!m->IsUint64()) fail(name, "expected a non-negative 64-bit integer");
      v = m->GetUint64();
    }
  }
  void operator()(const char* name, double& v) {
    if (const auto* m = find(name)) {
      if (!m->IsNumber()) fail(name, "expected a number");
      v = m->GetDouble();
    }
  }
  // After the visit: refuse members no field claimed.
  void check_unknown() const {
    for (auto it = object_.MemberBegin(); it != object_.MemberEnd(); ++it) {
      const std::string key(it->name.GetString(), it->name.GetStringLength());
      bool known = false;
      for (const std::string& seen : seen_) known = known || seen == key;
      if (!known) throw FieldError{key.substr(0, 64) + ": unknown field"};
    }
  }

 private:
  const rapidjson::Value* find(const char* name) {
    seen_.emplace_back(name);
    const auto it = object_.FindMember(name);
    if (it == object_.MemberEnd()) {
      if (all_required_) fail(name, "required field is missing");
      return nullptr;
    }
    return &it->value;
  }
  [[noreturn]] static void fail(const char* name, const std::string& what) {
    throw FieldError{std::string(name) + ": " + what};
  }

  const rapidjson::Value& object_;
  bool all_required_;
  std::vector<std::string> seen_;
};

// Binary: cereal portable binary with the snapshot schema's checked strings.
class BinaryOut {
 public:
  BinaryOut() : archive_(stream_) {}
  void operator()(const char*, const std::string& v) { detail::write_string(archive_, v); }
  void operator()(const char*, bool v) { archive_(static_cast<std::uint8_t>(v ? 1 : 0)); }
  template <class T>
  void operator()(const char*, T v) {
    archive_(v);
  }
  std::string finish() { return std::move(stream_).str(); }
  cereal::PortableBinaryOutputArchive& archive() { return archive_; }

 private:
  std::ostringstream stream_;
  cereal::PortableBinaryOutputArchive archive_;
};

class BinaryIn {
 public:
  // The archive reads the endianness byte as it is built: an empty body is refused first.
  explicit BinaryIn(std::string_view bytes, const SnapshotLimits& limits = {})
      : view_(non_empty(bytes)), stream_(&view_), archive_(context_, stream_) {
    context_.limits = limits;
    context_.input = &view_;
    const auto endian = static_cast<unsigned char>(bytes.front());
    if (endian > 1) {
      throw FieldError{"not a binary body: byte 0 (the endianness flag) is " + std::to_string(endian) +
                       ", not 0 or 1"};
    }
  }
  void operator()(const char* name, std::string& v) {
    step(name, [&] { detail::read_string(base(), context_, v); });
  }
  void operator()(const char* name, bool& v) {
    step(name, [&] {
      std::uint8_t b = 0;
      base()(b);
      if (b > 1) throw detail::DecodeError("expected a boolean (0 or 1), found " + std::to_string(b));
      v = b == 1;
    });
  }
  void operator()(const char* name, double& v) {
    step(name, [&] {
      const std::size_t at = view_.offset();
      base()(v);
      // JSON cannot carry NaN or infinity: refused here too, so both formats hold the same values.
      if (!std::isfinite(v)) {
        throw detail::DecodeError("expected a finite number, found " + std::to_string(v) + detail::at_offset(at));
      }
    });
  }
  template <class T>
  void operator()(const char* name, T& v) {
    step(name, [&] { base()(v); });
  }
  void check_end() const {
    if (view_.remaining() != 0) {
      throw FieldError{std::to_string(view_.remaining()) + " bytes left over at byte offset " +
                       std::to_string(view_.offset())};
    }
  }
  cereal::PortableBinaryInputArchive& base() { return archive_; }
  detail::DecodeContext& context() { return context_; }

 private:
  static std::string_view non_empty(std::string_view bytes) {
    if (bytes.empty()) throw FieldError{"empty body"};
    return bytes;
  }
  template <class F>
  void step(const char* name, F&& f) {
    try {
      detail::named_step(base(), std::string_view(name), "", std::forward<F>(f));
    } catch (const detail::DecodeError& e) {
      throw FieldError{e.text()};
    }
  }

  detail::DecodeContext context_;
  detail::InputView view_;
  std::istream stream_;
  detail::ContextArchive<cereal::PortableBinaryInputArchive> archive_;
};

// Runs a decoder body, turning every failure into a message.
template <class F>
std::string guarded(F&& body) {
  try {
    body();
    return {};
  } catch (const FieldError& e) {
    return e.text;
  } catch (const detail::DecodeError& e) {
    return e.text();
  } catch (const cereal::Exception& e) {
    return std::string("malformed body: ") + e.what();
  } catch (const std::bad_alloc&) {
    return "out of memory while decoding";
  } catch (const std::exception& e) {
    return std::string("decoding failed: ") + e.what();
  } catch (...) {
    return "decoding failed";
  }
}

// ---- Request options ----

// Version 1's binary form ends at deadline_ms; JSON takes every field in any version.
template <class Visitor, class Options, class Str>
void visit_options(Visitor& v, Options& o, Str& cost_model, Str& backend, Str& workload, bool v2_fields) {
  v("cost_model", cost_model);
  v("solver", backend);
  v("verify", o.verify);
  v("aggregate", o.aggregate);
  v("allow_migration", o.allow_migration);
  v("allow_preemption", o.allow_preemption);
  v("migration_cost", o.migration_cost);
  v("deadline_ms", o.deadline_ms);
  if (!v2_fields) return;
  v("candidate_slack", o.candidate_slack);
  v("max_resolves", o.max_resolves);
  v("new_tasks_per_machine", o.new_tasks_per_machine);
  v("tie_seed", o.tie_seed);
  v("workload", workload);
}

void finish_options(AllocateRequestOptions& o, const std::string& cost_model, const std::string& backend,
                    const std::string& workload) {
  const auto model = parse_cost_model(cost_model);
  if (!model) {
    throw FieldError{"cost_model: unknown cost model '" + cost_model.substr(0, 64) +
                     "' (spread, pack, quincy, priority, fgd)"};
  }
  o.cost_model = *model;
  const auto b = parse_backend(backend);
  if (!b) throw FieldError{"solver: unknown solver '" + backend.substr(0, 64) + "' (auto, cpu, gpu, lemon)"};
  o.backend = *b;
  if (o.migration_cost < 0 || o.migration_cost > kMaxMigrationCost) {  // a cost input: see validate()
    throw FieldError{"migration_cost: " + std::to_string(o.migration_cost) + " is outside 0.." +
                     std::to_string(kMaxMigrationCost)};
  }
  if (o.deadline_ms < 0) throw FieldError{"deadline_ms: must be >= 0, found " + std::to_string(o.deadline_ms)};
  if (!(o.candidate_slack >= 0) || o.candidate_slack > 1e6) {
    throw FieldError{"candidate_slack: " + std::to_string(o.candidate_slack) + " is outside 0..10^6"};
  }
  if (o.max_resolves < 0 || o.max_resolves > 1000) {
    throw FieldError{"max_resolves: " + std::to_string(o.max_resolves) + " is outside 0..1000"};
  }
  if (o.new_tasks_per_machine < -1) {
    throw FieldError{"new_tasks_per_machine: " + std::to_string(o.new_tasks_per_machine) +
                     " is below -1 (-1: no limit, 0: auto)"};
  }
  std::string error;
  auto specs = parse_workload_text(workload, &error);
  if (!specs) throw FieldError{"workload: " + error};
  o.workload = std::move(*specs);
}

// ---- Health and stats ----

template <class Visitor, class H>
void visit_health(Visitor& v, H& h) {
  v("state", h.state);
  v("version", h.version);
  v("uptime_s", h.uptime_s);
  v("workers", h.workers);
  v("queue_depth", h.queue_depth);
  v("queue_capacity", h.queue_capacity);
  v("in_flight", h.in_flight);
  v("highest_epoch", h.highest_epoch);
  v("gpu", h.gpu);
}

template <class Visitor, class S>
void visit_stats(Visitor& v, S& s, std::uint16_t version) {
  v("received", s.received);
  v("replied", s.replied);
  v("allocations", s.allocations);
  v("cache_hits", s.cache_hits);
  v("joined_in_flight", s.joined_in_flight);
  v("busy", s.busy);
  v("malformed", s.malformed);
  v("invalid", s.invalid);
  v("stale_epoch", s.stale_epoch);
  v("deadline_exceeded", s.deadline_exceeded);
  v("too_large", s.too_large);
  v("failed", s.failed);
  v("shutting_down", s.shutting_down);
  v("bytes_in", s.bytes_in);
  v("bytes_out", s.bytes_out);
  v("solve_seconds_total", s.solve_seconds_total);
  v("decode_seconds_total", s.decode_seconds_total);
  v("denied", s.denied);
  if (version >= 2) v("replies_dropped", s.replies_dropped);  // new in version 2
}

template <class Record, class Visit>
std::string encode_record(const Record& record, BodyFormat format, Visit visit) {
  try {
    auto& r = const_cast<Record&>(record);  // the writers only read
    if (format == BodyFormat::kJson) {
      JsonOut out;
      visit(out, r);
      return out.finish();
    }
    BinaryOut out;
    visit(out, r);
    return out.finish();
  } catch (...) {
    return {};
  }
}

template <class Record, class Visit>
std::optional<Record> decode_record(std::string_view bytes, BodyFormat format, std::string* error, Visit visit) {
  Record record;
  const std::string message = guarded([&] {
    if (format == BodyFormat::kJson) {
      const rapidjson::Document doc = parse_object(bytes);
      JsonIn in(doc, true);
      visit(in, record);
      in.check_unknown();
    } else {
      BinaryIn in(bytes);
      visit(in, record);
      in.check_end();
    }
  });
  if (!message.empty()) {
    if (error != nullptr) *error = message;
    return std::nullopt;
  }
  return record;
}

}  // namespace

AllocateOptions to_allocate_options(const AllocateRequestOptions& r) {
  AllocateOptions o;
  o.cost_model = r.cost_model;
  o.solve.backend = r.backend;
  o.solve.verify = r.verify;
  o.aggregate = r.aggregate;
  o.allow_migration = r.allow_migration;
  o.allow_preemption = r.allow_preemption;
  o.migration_cost = r.migration_cost;
  o.candidate_slack = r.candidate_slack;
  o.max_resolves = r.max_resolves;
  o.new_tasks_per_machine = r.new_tasks_per_machine;
  o.tie_seed = r.tie_seed;
  o.workload = r.workload;
  return o;
}

AllocateRequestOptions to_request_options(const AllocateOptions& o) {
  AllocateRequestOptions r;
  r.cost_model = o.cost_model;
  r.backend = o.solve.backend;
  r.verify = o.solve.verify;
  r.aggregate = o.aggregate;
  r.allow_migration = o.allow_migration;
  r.allow_preemption = o.allow_preemption;
  r.migration_cost = o.migration_cost;
  r.candidate_slack = o.candidate_slack;
  r.max_resolves = o.max_resolves;
  r.new_tasks_per_machine = o.new_tasks_per_machine;
  r.tie_seed = o.tie_seed;
  r.workload = o.workload;
  return r;
}

std::string workload_to_text(const std::vector<WorkloadSpec>& workload) {
  std::string out;
  char weight[32];
  for (const WorkloadSpec& w : workload) {
    if (!out.empty()) out += ';';
    std::snprintf(weight, sizeof weight, "%.17g", w.weight);
    out += std::to_string(w.cpu_milli) + ',' + std::to_string(w.memory_mib) + ',' + std::to_string(w.gpus) + ',' +
           std::to_string(w.gpu_milli) + ',' + weight;
    for (const std::string& m : w.gpu_models) out += ',' + m;
  }
  return out;
}

std::optional<std::vector<WorkloadSpec>> parse_workload_text(std::string_view text, std::string* error) {
  std::vector<WorkloadSpec> out;
  const auto fail = [&](std::size_t spec, const std::string& what) -> std::optional<std::vector<WorkloadSpec>> {
    if (error != nullptr) *error = "spec " + std::to_string(spec) + ": " + what;
    return std::nullopt;
  };
  if (text.empty()) return out;
  std::size_t spec = 0;
  for (std::size_t begin = 0; begin <= text.size(); ++spec) {
    std::size_t end = text.find(';', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(begin, end - begin);
    std::vector<std::string_view> fields;
    for (std::size_t b = 0; b <= item.size();) {
      std::size_t e = item.find(',', b);
      if (e == std::string_view::npos) e = item.size();
      fields.push_back(item.substr(b, e - b));
      b = e + 1;
    }
    if (fields.size() < 5) return fail(spec, "expected cpu_milli,memory_mib,gpus,gpu_milli,weight[,models], found '" +
                                                 std::string(item.substr(0, 64)) + "'");
    WorkloadSpec w;
    const auto integer = [&](std::string_view f, std::int64_t max, std::int64_t& v) {
      const auto r = std::from_chars(f.data(), f.data() + f.size(), v);
      return r.ec == std::errc{} && r.ptr == f.data() + f.size() && v >= 0 && v <= max;
    };
    std::int64_t gpus = 0, milli = 0;
    if (!integer(fields[0], std::int64_t{1} << 50, w.cpu_milli)) return fail(spec, "bad cpu_milli");
    if (!integer(fields[1], std::int64_t{1} << 50, w.memory_mib)) return fail(spec, "bad memory_mib");
    if (!integer(fields[2], 1024, gpus)) return fail(spec, "gpus must be 0..1024");
    if (!integer(fields[3], kGpuMilliWhole, milli)) return fail(spec, "gpu_milli must be 0..1000");
    if (gpus > 0 && milli > 0) return fail(spec, "whole GPUs and a share at once");
    w.gpus = static_cast<std::int32_t>(gpus);
    w.gpu_milli = static_cast<std::int32_t>(milli);
    double weight = 0;
    const auto r = std::from_chars(fields[4].data(), fields[4].data() + fields[4].size(), weight);
    if (r.ec != std::errc{} || r.ptr != fields[4].data() + fields[4].size() || !(weight >= 0) || weight > 1e12) {
      return fail(spec, "weight must be a number in 0..10^12");
    }
    w.weight = weight;
    for (std::size_t f = 5; f < fields.size(); ++f) {
      if (fields[f].empty()) return fail(spec, "empty GPU model name");
      w.gpu_models.emplace_back(fields[f]);
    }
    out.push_back(std::move(w));
    if (out.size() > 4096) return fail(spec, "more than 4096 specs");
    begin = end + 1;
    if (end == text.size()) break;
  }
  double total = 0;
  for (const WorkloadSpec& w : out) total += w.weight;
  if (!(total > 0)) return fail(0, "the weights sum to 0");
  for (WorkloadSpec& w : out) w.weight /= total;
  return out;
}

std::string encode_request_options(const AllocateRequestOptions& options, BodyFormat format, std::uint16_t version) {
  struct View {
    AllocateRequestOptions o;
    std::string model, backend, workload;
  } v{options, std::string(to_string(options.cost_model)), std::string(to_string(options.backend)),
      workload_to_text(options.workload)};
  const bool v2 = format == BodyFormat::kJson || version >= 2;
  return encode_record(v, format, [v2](auto& visitor, View& r) {
    visit_options(visitor, r.o, r.model, r.backend, r.workload, v2);
  });
}

RequestOptionsDecodeResult decode_request_options(std::string_view bytes, BodyFormat format, std::uint16_t version) {
  RequestOptionsDecodeResult result;
  std::string model(to_string(result.options.cost_model));
  std::string backend(to_string(result.options.backend));
  std::string workload;
  result.error = guarded([&] {
    if (format == BodyFormat::kJson) {
      const rapidjson::Document doc = parse_object(bytes);
      JsonIn in(doc, false);  // every option may be left out
      visit_options(in, result.options, model, backend, workload, true);
      in.check_unknown();
    } else {
      BinaryIn in(bytes);
      visit_options(in, result.options, model, backend, workload, version >= 2);
      in.check_end();
    }
    finish_options(result.options, model, backend, workload);
  });
  if (!result.error.empty()) result.error = "options: " + result.error;
  result.ok = result.error.empty();
  return result;
}

std::string encode_health(const HealthInfo& health, BodyFormat format) {
  return encode_record(health, format, [](auto& v, HealthInfo& h) { visit_health(v, h); });
}
std::optional<HealthInfo> decode_health(std::string_view bytes, BodyFormat format, std::string* error) {
  return decode_record<HealthInfo>(bytes, format, error, [](auto& v, HealthInfo& h) { visit_health(v, h); });
}
std::string encode_stats(const ServiceStats& stats, BodyFormat format, std::uint16_t version) {
  return encode_record(stats, format, [version](auto& v, ServiceStats& s) { visit_stats(v, s, version); });
}
std::optional<ServiceStats> decode_stats(std::string_view bytes, BodyFormat format, std::string* error,
                                         std::uint16_t version) {
  return decode_record<ServiceStats>(bytes, format, error,
                                     [version](auto& v, ServiceStats& s) { visit_stats(v, s, version); });
}

// ---- Allocation -------------------------------------------------------------------------
// Binary: the fields below in this order, lists with a 64-bit length each. JSON: the
// document allocation_to_json() writes (docs/allocation.md).

namespace {

void set_status_and_model(Allocation& a, const std::string& status, const std::string& model) {
  const auto s = parse_status(status);
  if (!s) throw FieldError{"status: unknown status '" + status.substr(0, 64) + "'"};
  a.status = *s;
  const auto m = parse_cost_model(model);
  if (!m) throw FieldError{"cost_model: unknown cost model '" + model.substr(0, 64) + "'"};
  a.cost_model = *m;
}

// ---- JSON allocation (the allocation_to_json document) ----

const rapidjson::Value& member(const rapidjson::Value& object, const char* name) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd()) throw FieldError{std::string(name) + ": required field is missing"};
  return it->value;
}

std::string get_string(const rapidjson::Value& object, const char* name, const SnapshotLimits& limits) {
  const rapidjson::Value& v = member(object, name);
  if (!v.IsString()) throw FieldError{std::string(name) + ": expected a string"};
  check_length(name, v, limits.max_string_bytes);
  return {v.GetString(), v.GetStringLength()};
}

std::int64_t get_int(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value& v = member(object, name);
  if (!v.IsInt64()) throw FieldError{std::string(name) + ": expected an integer"};
  return v.GetInt64();
}

double get_double(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value& v = member(object, name);
  if (!v.IsNumber()) throw FieldError{std::string(name) + ": expected a number"};
  return v.GetDouble();
}

bool get_bool(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value& v = member(object, name);
  if (!v.IsBool()) throw FieldError{std::string(name) + ": expected true or false"};
  return v.GetBool();
}

const rapidjson::Value& get_object(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value& v = member(object, name);
  if (!v.IsObject()) throw FieldError{std::string(name) + ": expected an object"};
  return v;
}

template <class T, class Read>
std::vector<T> get_list(const rapidjson::Value& object, const char* name, Read read) {
  const rapidjson::Value& v = member(object, name);
  if (!v.IsArray()) throw FieldError{std::string(name) + ": expected an array"};
  std::vector<T> out;
  out.reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    if (!v[i].IsObject()) throw FieldError{std::string(name) + "[" + std::to_string(i) + "]: expected an object"};
    try {
      out.push_back(read(v[i]));
    } catch (const FieldError& e) {
      throw FieldError{std::string(name) + "[" + std::to_string(i) + "]." + e.text};
    }
  }
  return out;
}

std::vector<std::int32_t> get_indexes(const rapidjson::Value& object, const char* name, const SnapshotLimits& limits) {
  const rapidjson::Value& v = member(object, name);
  if (!v.IsArray()) throw FieldError{std::string(name) + ": expected an array"};
  if (static_cast<std::int64_t>(v.Size()) > limits.max_gpus_per_machine) {
    throw FieldError{std::string(name) + ": " + std::to_string(v.Size()) + " elements exceed max_gpus_per_machine (" +
                     std::to_string(limits.max_gpus_per_machine) + ")"};
  }
  std::vector<std::int32_t> out;
  out.reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    if (!v[i].IsInt()) throw FieldError{std::string(name) + "[" + std::to_string(i) + "]: expected an integer"};
    out.push_back(v[i].GetInt());
  }
  return out;
}

// A record's fields (wire_schema.hpp) from the members of a JSON object, each required.
struct MemberReader {
  const rapidjson::Value& object;
  const SnapshotLimits& limits;
  template <class T>
  void operator()(const char* name, T& v, detail::ListLimit /*limit: only GPU lists, checked below*/) {
    if constexpr (std::is_same_v<T, std::string>) {
      v = get_string(object, name, limits);
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      v = get_int(object, name);
    } else if constexpr (std::is_same_v<T, double>) {
      v = get_double(object, name);
    } else if constexpr (std::is_same_v<T, std::vector<std::int32_t>>) {
      v = get_indexes(object, name, limits);
    } else {
      static_assert(std::is_same_v<T, UnscheduledReason>);
      const std::string text = get_string(object, name, limits);
      const auto reason = parse_unscheduled_reason(text);
      if (!reason) throw FieldError{std::string(name) + ": unknown reason '" + text.substr(0, 64) + "'"};
      v = *reason;
    }
  }
};

template <class R>
R read_record(const rapidjson::Value& object, const SnapshotLimits& limits) {
  R record;
  detail::visit_fields(record, MemberReader{object, limits});
  return record;
}

Allocation allocation_from_json(std::string_view bytes, const SnapshotLimits& limits) {
  const rapidjson::Document doc = parse_object(bytes);
  Allocation a;
  const std::string status = get_string(doc, "status", limits);  // in document order, for the message
  set_status_and_model(a, status, get_string(doc, "cost_model", limits));
  a.message = get_string(doc, "message", limits);
  a.snapshot_version = get_int(doc, "snapshot_version");
  a.backend = get_string(doc, "backend", limits);
  a.algorithm = get_string(doc, "algorithm", limits);
  a.fell_back = get_bool(doc, "fell_back");
  a.fallback_reason = get_string(doc, "fallback_reason", limits);
  a.objective = get_int(doc, "objective");
  a.timings = read_record<AllocationTimings>(get_object(doc, "timings_s"), limits);
  const rapidjson::Value& n = get_object(doc, "network");
  a.stats = read_record<AllocationStats>(n, limits);
  // Version 2's fields: absent from a version 1 service's replies.
  detail::visit_fields_since_v2(a.stats, [&](const char* name, std::int64_t& v, detail::ListLimit) {
    v = n.HasMember(name) ? get_int(n, name) : 0;
  });
  if (doc.HasMember("certificate")) {
    const rapidjson::Value& c = get_object(doc, "certificate");
    Certificate cert;
    const bool valid = get_bool(c, "valid");
    cert.feasible = cert.complementary_slackness = cert.costs_equal = valid;
    cert.message = get_string(c, "message", limits);
    a.certificate = std::move(cert);
  }
  const auto list = [&]<class R>(const char* name, std::vector<R>& out) {
    out = get_list<R>(doc, name, [&](const rapidjson::Value& o) { return read_record<R>(o, limits); });
  };
  list("placements", a.placements);
  list("kept", a.kept);
  list("migrations", a.migrations);
  list("preemptions", a.preemptions);
  list("unscheduled", a.unscheduled);
  return a;
}

}  // namespace

std::string encode_allocation(const Allocation& allocation, BodyFormat format, std::uint16_t version) {
  if (format == BodyFormat::kJson) return allocation_to_json(allocation);
  try {
    return detail::encode_allocation_binary(allocation, version);
  } catch (...) {
    return {};
  }
}

AllocationDecodeResult decode_allocation(std::string_view bytes, BodyFormat format, const SnapshotLimits& limits,
                                         std::uint16_t version) {
  AllocationDecodeResult result;
  result.error = guarded([&] {
    if (format == BodyFormat::kJson) {
      result.allocation = allocation_from_json(bytes, limits);
    } else {
      detail::decode_allocation_binary(bytes, limits, result.allocation, version);
    }
  });
  result.ok = result.error.empty();
  if (!result.ok) result.error = "allocation: " + result.error;
  return result;
}

std::string encode_indexed_allocation(const IndexedAllocation& allocation, std::uint16_t version) {
  try {
    return detail::encode_indexed_allocation_binary(allocation, version);
  } catch (...) {
    return {};
  }
}

IndexedAllocationDecodeResult decode_indexed_allocation(std::string_view bytes, const SnapshotLimits& limits,
                                                        std::uint16_t version) {
  IndexedAllocationDecodeResult result;
  result.error = guarded([&] { detail::decode_indexed_allocation_binary(bytes, limits, result.allocation, version); });
  result.ok = result.error.empty();
  if (!result.ok) result.error = "indexed allocation: " + result.error;
  return result;
}

}  // namespace sluice
