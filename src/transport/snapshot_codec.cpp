// Snapshot encoding and decoding (snapshot_io.hpp) with cereal: JSON and portable binary.
//
// Decoding treats the input as hostile. Nothing escapes as an exception; every failure is
// returned as a message that names the field (JSON) or the field and byte offset (binary).
// Defences, in order:
//  1. JSON is first run through a SAX pass (no DOM) that reports syntax errors with their
//     byte offset, caps nesting depth (cereal's rapidjson parse is recursive, so deep
//     garbage could otherwise overflow the stack), requires a top-level object and
//     requires the map fields (labels, selector, ...) to be objects, since cereal's JSON
//     archive cannot tell an array from an empty object once inside the node, refuses
//     a member name given twice in one object (cereal would read the first), and refuses
//     a member the schema does not have and an object or array where it has a scalar, so
//     that nothing is built from what cereal would skip (a 100 MB unknown member took
//     1.6 GiB of document). The members allowed in each record are those the encoder
//     writes (JsonSchema below): the schema stays written once, in snapshot_cereal.hpp.
//  2. Binary starts with cereal's endianness byte, which must be 0 or 1.
//  3. The loads in snapshot_cereal.hpp check every length against the remaining bytes and
//     SnapshotLimits before allocating, and every JSON number against its field's type.
//  4. validate() checks the decoded snapshot's meaning (ids, capacities, references).
#include "snapshot_cereal.hpp"  // first: cereal's json.hpp sets RAPIDJSON_ASSERT to throw

#include <fcntl.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <istream>
#include <new>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "binary_codec.hpp"
#include "json_keys.hpp"
#include "sluice/snapshot_io.hpp"

namespace sluice {
namespace {

constexpr std::size_t kMaxJsonDepth = 64;  // the schema itself nests 6 deep

// Keys whose value the schema reads as a map (a JSON object).
bool is_map_field(std::string_view key) {
  return key == "extra_capacity" || key == "extra_free" || key == "labels" || key == "extra" ||
         key == "selector";
}

// What the schema allows where, learnt from the encoder: a snapshot with one of every record
// (each list and map non-empty) is written to JSON and walked once, so the member lists stay
// written once, in snapshot_cereal.hpp. Records are numbered as first met: 0 is the top
// level. A map field (labels, ...) is a record that takes any key.
class JsonSchema {
 public:
  static constexpr std::int32_t kInteger = -1;
  static constexpr std::int32_t kString = -2;
  // A member's value: a scalar (kInteger, kString) or a record (>= 0), or a list of either.
  struct Value {
    bool list = false;
    std::int32_t kind = kInteger;
  };
  struct Hash {  // looks member names up by string_view, without a copy
    using is_transparent = void;
    std::size_t operator()(std::string_view k) const { return std::hash<std::string_view>{}(k); }
  };
  struct Record {
    bool any_key = false;  // a map: any key, each with `map_value`
    Value map_value;
    std::unordered_map<std::string, Value, Hash, std::equal_to<>> members;
  };

  static const JsonSchema& get();

  // The value a member of `record` holds; nullptr if the record has no such member.
  [[nodiscard]] const Value* member(std::int32_t record, std::string_view key) const {
    const Record& r = records_[static_cast<std::size_t>(record)];
    if (r.any_key) return &r.map_value;
    const auto it = r.members.find(key);
    return it == r.members.end() ? nullptr : &it->second;
  }
  // "an integer", "a list", ...: what a message says was expected.
  [[nodiscard]] static std::string describe(const Value& v) {
    if (v.list) return "an array";
    return v.kind == kInteger ? "an integer" : v.kind == kString ? "a string" : "an object";
  }

  std::vector<Record> records_;
};

// Walks the encoder's output and records what each member holds.
class JsonSchemaCollector : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, JsonSchemaCollector> {
 public:
  explicit JsonSchemaCollector(JsonSchema& schema) : schema_(schema) {}
  bool Default() { return true; }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return scalar(JsonSchema::kInteger); }
  bool String(const char*, rapidjson::SizeType, bool) { return scalar(JsonSchema::kString); }
  bool Key(const char* key, rapidjson::SizeType length, bool) {
    frames_.back().key.assign(key, length);
    return true;
  }
  bool StartObject() {
    std::int32_t record = 0;
    if (!frames_.empty()) {
      record = static_cast<std::int32_t>(schema_.records_.size());
      slot(JsonSchema::Value{false, record});
    }
    schema_.records_.emplace_back();
    schema_.records_.back().any_key = !frames_.empty() && is_map_field(frames_.back().key);
    frames_.push_back(Frame{false, record, {}});
    return true;
  }
  bool StartArray() {
    // A list member; its elements say what it holds (every list of the sample has one).
    if (!frames_.back().is_array) set(frames_.back().record, frames_.back().key, JsonSchema::Value{true, JsonSchema::kInteger});
    frames_.push_back(Frame{true, 0, frames_.back().key});
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool EndArray(rapidjson::SizeType) { return close(); }

 private:
  struct Frame {
    bool is_array = false;
    std::int32_t record = 0;  // objects: the record
    std::string key;          // objects: the current member; arrays: the member they are
  };
  bool scalar(std::int32_t kind) {
    slot(JsonSchema::Value{false, kind});
    return true;
  }
  // Records what the value being read is, in the record (or list) that holds it.
  void slot(JsonSchema::Value value) {
    if (frames_.back().is_array) {
      value.list = true;
      const Frame& holder = frames_[frames_.size() - 2];
      set(holder.record, holder.key, value);
    } else {
      set(frames_.back().record, frames_.back().key, value);
    }
  }
  void set(std::int32_t record, const std::string& key, JsonSchema::Value value) {
    JsonSchema::Record& r = schema_.records_[static_cast<std::size_t>(record)];
    if (r.any_key) {
      r.map_value = value;
    } else {
      r.members[key] = value;
    }
  }
  bool close() {
    frames_.pop_back();
    return true;
  }
  JsonSchema& schema_;
  std::vector<Frame> frames_;
};

const JsonSchema& JsonSchema::get() {
  static const JsonSchema schema = [] {
    Snapshot sample;
    Machine& m = sample.machines.emplace_back();
    m.gpus.emplace_back();
    m.labels["k"] = "v";
    m.extra_capacity["k"] = 1;
    m.extra_free["k"] = 1;
    Task& t = sample.jobs.emplace_back().tasks.emplace_back();
    t.gpu_models.push_back("g");
    t.extra["k"] = 1;
    t.selector["k"] = "v";
    t.preferred_machines.push_back({"m", 1});
    t.preferred_racks.push_back({"r", 1});
    t.gpu_indexes.push_back(0);
    const std::string text = encode_snapshot(sample, SnapshotFormat::kJson);
    JsonSchema built;
    rapidjson::MemoryStream stream(text.data(), text.size());
    rapidjson::Reader reader;
    JsonSchemaCollector collector(built);
    reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag>(stream, collector);
    return built;
  }();
  return schema;
}

// SAX handler for step 1: tracks the path to report where the shape is wrong.
class JsonShapeCheck : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, JsonShapeCheck> {
 public:
  bool Default() { return value(); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return value(); }
  // cereal reads strings and member names as C strings: a \u0000 would cut them short, so
  // no snapshot string may hold one (validate() says the same of binary snapshots).
  bool String(const char* s, rapidjson::SizeType length, bool) {
    if (std::memchr(s, '\0', length) != nullptr) {
      return fail(value_path(), "a string holding a NUL character (\\u0000)");
    }
    return value();
  }
  bool Key(const char* key, rapidjson::SizeType length, bool) {
    if (const void* nul = std::memchr(key, '\0', length)) {
      frames_.back().key.assign(key, static_cast<const char*>(nul));  // the path up to the NUL
      return fail(path(), "a member name holding a NUL character (\\u0000)");
    }
    frames_.back().key.assign(key, length);
    if (!keys_.insert(std::string_view(key, length))) {
      return fail(path(), in_map() ? "duplicate key" : "appears twice in one object");
    }
    if (schema_.member(frames_.back().what.kind, std::string_view(key, length)) == nullptr) {
      return fail(path(), "unknown member (this build reads snapshot format " + std::to_string(kSnapshotFormat) +
                              ", docs/snapshot.md)");
    }
    return true;
  }
  bool StartObject() { return open(false); }
  bool StartArray() { return open(true); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  struct Frame {
    bool is_array = false;
    std::size_t count = 0;  // arrays: children seen so far, the current one included
    std::string key;        // objects: the current member's name
    JsonSchema::Value what;  // objects: the record ({false, record}); arrays: an element
  };

  bool value() {
    if (frames_.empty()) return fail("", "the document must be a JSON object");
    if (frames_.back().is_array) ++frames_.back().count;
    return true;
  }
  bool open(bool is_array) {
    JsonSchema::Value what{false, 0};  // the top level
    if (frames_.empty()) {
      if (is_array) return fail("", "the document must be a JSON object");
    } else {
      Frame& parent = frames_.back();
      if (parent.is_array) ++parent.count;
      // What the schema has here. An object or array where it has something else (a scalar,
      // or a member it does not have) is refused before anything is built of it.
      const JsonSchema::Value expected =
          parent.is_array ? parent.what : *schema_.member(parent.what.kind, parent.key);  // Key() checked it
      const bool fits = is_array ? expected.list : !expected.list && expected.kind >= 0;
      if (!fits) return fail(path(), "expected " + JsonSchema::describe(expected));
      what = is_array ? JsonSchema::Value{false, expected.kind} : expected;
      if (frames_.size() >= kMaxJsonDepth) {
        return fail(path(), "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
      }
    }
    frames_.push_back(Frame{is_array, 0, {}, what});
    if (!is_array) keys_.open();
    return true;
  }
  bool close() {
    if (!frames_.back().is_array) keys_.close();
    frames_.pop_back();
    return true;
  }
  // The path of a scalar value about to be counted: in an array, the next index.
  std::string value_path() const {
    if (frames_.empty() || !frames_.back().is_array) return path();
    std::string p = path();
    return p.substr(0, p.rfind('[')) + "[" + std::to_string(frames_.back().count) + "]";
  }
  // Whether the innermost open object is a map field's value (its member names are keys).
  bool in_map() const {
    return frames_.size() >= 2 && !frames_.back().is_array && !frames_[frames_.size() - 2].is_array &&
           is_map_field(frames_[frames_.size() - 2].key);
  }
  // The path of the value being opened: each frame's current key or index; a map's keys
  // as ["key"], the way the field loads name them.
  std::string path() const {
    std::string p;
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.is_array) {
        p += "[" + std::to_string(f.count - 1) + "]";
      } else if (i > 0 && !frames_[i - 1].is_array && is_map_field(frames_[i - 1].key)) {
        p += "[\"" + f.key + "\"]";
      } else {
        if (!p.empty()) p += ".";
        p += f.key;
      }
    }
    return p;
  }
  bool fail(const std::string& where, const std::string& message) {
    error_ = where.empty() ? message : where + ": " + message;
    return false;
  }

  const JsonSchema& schema_ = JsonSchema::get();
  std::vector<Frame> frames_;
  detail::JsonKeyStack keys_;  // member names of the open objects: none may come twice
  std::string error_;
};

// rapidjson's MemoryStream, looking at the caller's cancel flag once per MiB taken: a
// raised flag throws DecodeCancelled out of the parse.
class CancellableStream : public rapidjson::MemoryStream {
 public:
  CancellableStream(const char* data, std::size_t size, const std::atomic<bool>* cancel)
      : rapidjson::MemoryStream(data, size), cancel_(cancel) {}
  Ch Take() {
    if ((++taken_ & ((std::size_t{1} << 20) - 1)) == 0 && cancel_ != nullptr &&
        cancel_->load(std::memory_order_relaxed)) {
      throw detail::DecodeCancelled{};
    }
    return rapidjson::MemoryStream::Take();
  }

 private:
  const std::atomic<bool>* cancel_;
  std::size_t taken_ = 0;
};

// Step 1; returns an empty string when the text may go to cereal.
std::string check_json_shape(std::string_view text, const std::atomic<bool>* cancel) {
  // rapidjson stops at a NUL as if the text ended there, so '{...}\0garbage' would pass; a
  // raw NUL is never valid JSON (in a string it is written \u0000).
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return "JSON syntax error at byte offset " + std::to_string(nul) + ": a NUL byte";
  }
  // Numbers stay text (RawNumber, which the handler takes as any value): their syntax is
  // checked as cereal's parse checks it, and no conversion runs (see snapshot_cereal.hpp).
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag |
                              rapidjson::kParseNanAndInfFlag;  // NaN and Infinity as cereal parses
  CancellableStream stream(text.data(), text.size(), cancel);
  rapidjson::Reader reader;
  JsonShapeCheck handler;
  const rapidjson::ParseResult result = reader.Parse<kFlags>(stream, handler);
  if (result) return {};
  if (!handler.error().empty()) return handler.error();
  return "JSON syntax error at byte offset " + std::to_string(result.Offset()) + ": " +
         rapidjson::GetParseError_En(result.Code());
}

template <class Base>
void load_root(std::string_view bytes, detail::DecodeContext& ctx, Snapshot& snapshot) {
  constexpr bool kJson = std::is_same_v<Base, cereal::JSONInputArchive>;
  // JSON text is handed to cereal's parser a MiB at a time, the cancel flag looked at
  // between them; binary input is read in place (its offsets name errors).
  detail::InputView view = kJson ? detail::InputView(bytes, std::size_t{1} << 20, ctx.cancel) : detail::InputView(bytes);
  std::istream stream(&view);
  ctx.input = &view;
  try {
    detail::ContextArchive<Base> archive(ctx, stream);
    load(static_cast<Base&>(archive), snapshot);
  } catch (...) {
    if (view.cancelled()) throw detail::DecodeCancelled{};  // the parse saw the input end early
    throw;
  }
  if constexpr (std::is_same_v<Base, cereal::PortableBinaryInputArchive>) {
    if (view.remaining() != 0) {
      throw detail::DecodeError(std::to_string(view.remaining()) + " bytes left over after the snapshot (at byte offset " +
                                std::to_string(view.offset()) + ")");
    }
  }
  ctx.input = nullptr;
}

SnapshotDecodeResult failure(std::string message) {
  SnapshotDecodeResult result;
  result.error = std::move(message);
  return result;
}

bool has_json_extension(const std::string& path) {
  constexpr std::string_view kExt = ".json";
  return path.size() >= kExt.size() && path.compare(path.size() - kExt.size(), kExt.size(), kExt) == 0;
}

}  // namespace

// The cereal archives' binary codec: the reference the direct codec (binary_codec.cpp) is
// tested against, byte for byte and error for error.
std::string detail::encode_snapshot_cereal_binary(const Snapshot& snapshot) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive archive(out);
    save(archive, snapshot);
  }
  return std::move(out).str();
}

SnapshotDecodeResult detail::decode_snapshot_cereal_binary(std::string_view bytes, const SnapshotLimits& limits) {
  try {
    if (bytes.empty()) return failure("empty input");
    const auto endian = static_cast<unsigned char>(bytes.front());
    if (endian > 1) {
      return failure("not a binary snapshot: byte 0 (the endianness flag) is " + std::to_string(endian) +
                     ", not 0 or 1");
    }
    SnapshotDecodeResult result;
    detail::DecodeContext ctx;
    ctx.limits = limits;
    load_root<cereal::PortableBinaryInputArchive>(bytes, ctx, result.snapshot);
    result.ok = true;
    return result;
  } catch (const detail::DecodeError& e) {
    return failure(e.text());
  } catch (const std::exception& e) {
    return failure(std::string("decoding failed: ") + e.what());
  }
}

std::string encode_snapshot(const Snapshot& snapshot, SnapshotFormat format) {
  try {
    std::ostringstream out;
    if (format == SnapshotFormat::kJson) {
      cereal::JSONOutputArchive archive(out, cereal::JSONOutputArchive::Options(
                                                 324, cereal::JSONOutputArchive::Options::IndentChar::space, 2));
      save(archive, snapshot);
    } else {
      return detail::encode_snapshot_binary(snapshot);
    }  // the JSON archive closes its object when destroyed
    return std::move(out).str();
  } catch (...) {
    return {};  // only allocation can fail here; an empty string never decodes
  }
}

namespace {

SnapshotDecodeResult decode(std::string_view bytes, SnapshotFormat format, const SnapshotLimits& limits,
                            bool validated, const std::atomic<bool>* cancel = nullptr) {
  try {
    if (bytes.empty()) return failure("empty input");
    SnapshotDecodeResult result;
    detail::DecodeContext ctx;
    ctx.limits = limits;
    ctx.cancel = cancel;
    if (format == SnapshotFormat::kJson) {
      if (std::string shape = check_json_shape(bytes, cancel); !shape.empty()) return failure(std::move(shape));
      load_root<cereal::JSONInputArchive>(bytes, ctx, result.snapshot);
    } else {
      detail::decode_snapshot_binary(bytes, limits, result.snapshot, cancel);  // checks the endianness byte
    }
    if (const Validation v = validated ? validate(result.snapshot, limits) : Validation{}; !v.ok()) {
      return failure("invalid snapshot: " + v.message);
    }
    result.ok = true;
    return result;
  } catch (const detail::DecodeCancelled&) {
    SnapshotDecodeResult result = failure("cancelled during decoding");
    result.cancelled = true;
    return result;
  } catch (const detail::DecodeError& e) {
    return failure(e.text());
  } catch (const cereal::Exception& e) {  // outside any field: the top-level object itself
    return failure(std::string("malformed snapshot: ") + e.what());
  } catch (const std::bad_alloc&) {
    return failure("out of memory while decoding");
  } catch (const std::exception& e) {
    return failure(std::string("decoding failed: ") + e.what());
  } catch (...) {
    return failure("decoding failed");
  }
}

}  // namespace

SnapshotDecodeResult decode_snapshot(std::string_view bytes, SnapshotFormat format, const SnapshotLimits& limits) {
  return decode(bytes, format, limits, true);
}

SnapshotDecodeResult decode_snapshot_unvalidated(std::string_view bytes, SnapshotFormat format,
                                                 const SnapshotLimits& limits, const std::atomic<bool>* cancel) {
  return decode(bytes, format, limits, false, cancel);
}

SnapshotDecodeResult read_snapshot_file(const std::string& path, const SnapshotLimits& limits) {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) return failure("cannot open " + path);
    // One read into a buffer of the file's size (a stringstream would grow and copy it).
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    in.seekg(0, std::ios::beg);
    if (size < 0) return failure("cannot read " + path);
    std::string content(static_cast<std::size_t>(size), '\0');
    in.read(content.data(), size);
    if (in.gcount() != size) return failure("cannot read " + path);
    SnapshotDecodeResult result =
        decode_snapshot(content, has_json_extension(path) ? SnapshotFormat::kJson : SnapshotFormat::kBinary,
                        limits);
    if (!result.ok) result.error = path + ": " + result.error;
    return result;
  } catch (const std::exception& e) {
    return failure(path + ": " + e.what());
  } catch (...) {
    return failure(path + ": reading failed");
  }
}

bool write_snapshot_file(const std::string& path, const Snapshot& snapshot, std::string* error) {
  auto fail = [&](std::string message) {
    if (error != nullptr) *error = std::move(message);
    return false;
  };
  // PATH must be absent or a regular file: a device, FIFO, directory or link is refused,
  // never replaced by the rename below or written through.
  const auto replaceable = [](const std::string& p) -> std::string {
    struct stat st{};
    if (::lstat(p.c_str(), &st) != 0) return errno == ENOENT ? std::string() : "cannot inspect " + p + ": " + std::strerror(errno);
    if (S_ISREG(st.st_mode)) return {};
    return p + " exists and is not a regular file (" +
           (S_ISDIR(st.st_mode) ? "a directory" : S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISFIFO(st.st_mode) ? "a FIFO" : "a device or socket") +
           "): refusing to replace it";
  };
  try {
    const std::string partial = path + ".partial";
    for (const std::string& p : {path, partial}) {
      if (std::string why = replaceable(p); !why.empty()) return fail(std::move(why));
    }
    const std::string bytes =
        encode_snapshot(snapshot, has_json_extension(path) ? SnapshotFormat::kJson : SnapshotFormat::kBinary);
    if (bytes.empty()) return fail("encoding " + path + " failed");
    // Write a sibling (created anew, never through a link), check every write, fsync, and
    // rename it: a reader never sees half a file, and a failed write leaves PATH as it was.
    ::unlink(partial.c_str());
    const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) return fail("cannot create " + partial + ": " + std::strerror(errno));
    int failure = 0;
    for (std::size_t done = 0; failure == 0 && done < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) failure = n < 0 ? errno : EIO;
      else done += static_cast<std::size_t>(n);
    }
    if (failure == 0 && ::fsync(fd) != 0) failure = errno;
    if (::close(fd) != 0 && failure == 0) failure = errno;
    if (failure != 0) {
      ::unlink(partial.c_str());
      return fail("cannot write " + partial + ": " + std::strerror(failure));
    }
    if (std::rename(partial.c_str(), path.c_str()) != 0) {
      const int saved = errno;
      ::unlink(partial.c_str());
      return fail("cannot rename " + partial + " to " + path + ": " + std::strerror(saved));
    }
    return true;
  } catch (const std::exception& e) {
    return fail(path + ": " + e.what());
  } catch (...) {
    return fail(path + ": writing failed");
  }
}

}  // namespace sluice
