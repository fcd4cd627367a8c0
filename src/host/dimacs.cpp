// DIMACS min-cost-flow reader and writers.
//
// The reader streams its input in chunks of up to 4 MiB (the input's size when it is known)
// and parses each line in place with std::from_chars: files with millions of arcs are
// common, and a token-at-a-time iostream parse is an order of magnitude slower. Every count
// read from the file is range-checked (against DimacsLimits) before anything is sized from
// it, and reservations are capped by the input's size where it is known, so a lying header
// (`p min 3 1000000000`) costs nothing. Node arrays grow with the ids actually seen and
// reach the declared N only once the whole file has parsed cleanly. Errors are data
// ("SOURCE:LINE: expected ..., found '...'"); nothing here throws to the caller.
//
// Firmament dialect: `n ID SUPPLY TYPE` carries a node type, and a `c nd ...` comment
// names the node of the next `n` line. Firmament writes either `c nd NAME` or
// `c nd ID NAME` (ID an integer, e.g. a job id of 0); in the second form the leading
// integer is dropped. A `c nd` line not followed by an `n` line (before the next `c nd`
// or `a` line) names nothing. Names are metadata: they never make a file fail.
//
// Over 700 lines because the streaming reader and the three writers (solution, flows,
// network) share the dialect's details; each is one function here.
#include "sluice/dimacs.hpp"

#include "text_excerpt.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <istream>
#include <limits>
#include <memory>
#include <new>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace sluice {
namespace {

constexpr std::size_t kChunkBytes = std::size_t{1} << 22;  // also the longest line accepted
constexpr std::size_t kMaxReserveArcs = std::size_t{1} << 24;
constexpr std::size_t kMinArcLineBytes = 12;  // "a 1 2 0 0 0\n"
constexpr std::size_t kExcerptChars = 64;
constexpr std::size_t kWriteFlushBytes = std::size_t{1} << 20;

// Reads up to `capacity` bytes into `dst`; returns the count, 0 at end of input. Sets
// `error` (and returns 0) on a read failure.
using ChunkSource = std::function<std::size_t(char* dst, std::size_t capacity, std::string& error)>;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The offending text as it goes into a message: trimmed, cut short, control bytes shown
// as '?', so a binary file cannot garble the error.
std::string excerpt(std::string_view s) { return detail::excerpt(trim(s), kExcerptChars); }

// Splits a buffer into lines ('\n'-terminated; the last may lack it), refilling from the
// source as needed. Lines are views into the buffer, valid until the next call. The buffer
// starts at the input's size when that is known (`size_hint`, 0 if not) and grows, up to
// kChunkBytes, only when a line does not fit: a 100-byte file costs 101 bytes, not 4 MiB.
class LineReader {
 public:
  LineReader(ChunkSource source, std::uint64_t size_hint)
      : source_(std::move(source)),
        capacity_(size_hint > 0 && size_hint < kChunkBytes ? static_cast<std::size_t>(size_hint) + 1 : kChunkBytes),
        buf_(std::make_unique_for_overwrite<char[]>(capacity_)) {}

  enum class Next { kLine, kEnd, kTooLong, kReadError };

  Next next(std::string_view& line) {
    for (;;) {
      const char* start = buf_.get() + begin_;
      const std::size_t avail = end_ - begin_;
      if (const void* nl = avail ? std::memchr(start, '\n', avail) : nullptr) {
        const auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
        line = std::string_view(start, len);
        begin_ += len + 1;
        ++line_number_;
        return Next::kLine;
      }
      if (eof_) {
        if (avail == 0) return Next::kEnd;
        line = std::string_view(start, avail);
        begin_ = end_;
        ++line_number_;
        return Next::kLine;
      }
      if (begin_ == 0 && end_ == capacity_ && capacity_ < kChunkBytes) {
        grow();  // the input is longer than its size hint said
        continue;
      }
      if (begin_ == 0 && end_ == capacity_) {
        // A line longer than the buffer: hand back its start, the caller decides.
        line = std::string_view(start, avail);
        ++line_number_;
        return Next::kTooLong;
      }
      if (!fill()) return Next::kReadError;
    }
  }

  // After kTooLong: drops the rest of that line.
  bool skip_rest_of_line() {
    begin_ = end_ = 0;
    for (;;) {
      if (!fill()) return false;
      if (end_ == 0 && eof_) return true;
      if (const void* nl = std::memchr(buf_.get(), '\n', end_)) {
        begin_ = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.get()) + 1;
        return true;
      }
      if (eof_) {
        begin_ = end_;
        return true;
      }
      begin_ = end_ = 0;
    }
  }

  [[nodiscard]] std::int64_t line_number() const { return line_number_; }
  [[nodiscard]] std::uint64_t bytes_read() const { return bytes_read_; }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  // Moves the unread tail to the front and reads into the rest of the buffer.
  bool fill() {
    if (begin_ > 0) {
      std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    while (end_ < capacity_) {
      const std::size_t got = source_(buf_.get() + end_, capacity_ - end_, error_);
      if (!error_.empty()) return false;
      if (got == 0) {
        eof_ = true;
        break;
      }
      end_ += got;
      bytes_read_ += got;
    }
    return true;
  }

  void grow() {
    const std::size_t bigger = std::min(2 * capacity_, kChunkBytes);
    auto next = std::make_unique_for_overwrite<char[]>(bigger);
    std::memcpy(next.get(), buf_.get(), end_);
    buf_ = std::move(next);
    capacity_ = bigger;
  }

  ChunkSource source_;
  std::size_t capacity_;
  std::unique_ptr<char[]> buf_;  // not zero-filled: only the bytes read are touched
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  std::int64_t line_number_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::string error_;
};

enum class IntParse { kOk, kNotInteger, kOverflow };

IntParse parse_int64(std::string_view tok, std::int64_t& out) {
  const char* first = tok.data();
  const char* last = tok.data() + tok.size();
  if (first != last && *first == '+') {
    ++first;
    if (first == last || *first < '0' || *first > '9') return IntParse::kNotInteger;
  }
  const auto [ptr, ec] = std::from_chars(first, last, out);
  if (ec == std::errc::result_out_of_range) {
    return ptr == last ? IntParse::kOverflow : IntParse::kNotInteger;
  }
  if (ec != std::errc{} || ptr != last) return IntParse::kNotInteger;
  return IntParse::kOk;
}

// Up to kMaxFields tokens of one line; `count` is the true number of tokens.
struct Fields {
  static constexpr int kMaxFields = 8;
  std::array<std::string_view, kMaxFields> token;
  int count = 0;
};

void split(std::string_view line, Fields& f) {
  f.count = 0;
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (i < n) {
    while (i < n && is_space(line[i])) ++i;
    if (i == n) break;
    const std::size_t start = i;
    while (i < n && !is_space(line[i])) ++i;
    if (f.count < Fields::kMaxFields)
      f.token[static_cast<std::size_t>(f.count)] = line.substr(start, i - start);
    ++f.count;
  }
}

class Parser {
 public:
  Parser(std::string_view source_name, DimacsReadResult& result, std::uint64_t size_hint, const DimacsLimits& limits)
      : source_(source_name),
        r_(result),
        size_hint_(size_hint),
        max_nodes_(std::clamp<std::int64_t>(limits.max_nodes, 0, kMaxNodes)),
        max_arcs_(std::clamp<std::int64_t>(limits.max_arcs, 0, kMaxArcs)) {}

  // Parses the whole input; false with r_.error set on the first error.
  bool run(LineReader& reader) {
    std::string_view line;
    for (;;) {
      const LineReader::Next what = reader.next(line);
      line_ = reader.line_number();
      if (what == LineReader::Next::kEnd) break;
      if (what == LineReader::Next::kReadError) {
        return fail_plain("read error: " + reader.error());
      }
      if (what == LineReader::Next::kTooLong) {
        const std::string_view t = trim(line);
        any_content_ = true;
        if (t.empty() || t.front() != 'c') {
          return fail("a line of at most " + std::to_string(kChunkBytes) + " bytes", line);
        }
        if (!handle_comment(t)) return false;  // the name, if any, is cut short
        if (!reader.skip_rest_of_line()) return fail_plain("read error: " + reader.error());
        continue;
      }
      if (!handle_line(line)) return false;
    }
    return finish(reader);
  }

 private:
  bool handle_line(std::string_view line) {
    const std::string_view t = trim(line);
    if (t.empty()) return true;
    any_content_ = true;
    switch (t.front()) {
      case 'c':
        return handle_comment(t);
      case 'p':
        return handle_problem(t);
      case 'n':
        return handle_node(t);
      case 'a':
        return handle_arc(t);
      default:
        return fail_unknown(t);
    }
  }

  // ---- line kinds ---------------------------------------------------------------------

  bool handle_comment(std::string_view t) {
    // Only `c nd ...` matters: it names the node of the next `n` line.
    t.remove_prefix(1);
    if (t.empty() || !is_space(t.front())) return true;
    t = trim(t);
    if (t.size() < 2 || t.substr(0, 2) != "nd" || (t.size() > 2 && !is_space(t[2]))) return true;
    std::string_view name = trim(t.substr(2));
    // `c nd ID NAME`: drop the leading integer when a name follows it.
    std::size_t i = 0;
    while (i < name.size() && !is_space(name[i])) ++i;
    if (i < name.size()) {
      std::int64_t ignored = 0;
      if (parse_int64(name.substr(0, i), ignored) != IntParse::kNotInteger)
        name = trim(name.substr(i));
    }
    pending_name_.assign(name);
    has_pending_name_ = !name.empty();
    return true;
  }

  bool handle_problem(std::string_view t) {
    split(t, f_);
    if (f_.token[0] != "p") return fail_unknown(t);
    if (have_problem_) {
      return fail("a single 'p' line (duplicate 'p' line; the first is line " +
                      std::to_string(problem_line_) + ")",
                  t);
    }
    if (f_.count != 4) return fail_fields("'p min N M' (4 fields)", t);
    if (f_.token[1] != "min") return fail("problem type 'min'", f_.token[1]);
    if (!parse_count(f_.token[2], "node", max_nodes_, num_nodes_)) return false;
    if (!parse_count(f_.token[3], "arc", max_arcs_, num_arcs_)) return false;
    if (!fits_in_memory(t)) return false;
    have_problem_ = true;
    problem_line_ = line_;
    // Reserve what the input can actually hold, never more than the header claims.
    auto reserve = static_cast<std::uint64_t>(num_arcs_);
    reserve = std::min<std::uint64_t>(reserve, kMaxReserveArcs);
    if (size_hint_ > 0)
      reserve = std::min<std::uint64_t>(reserve, size_hint_ / kMinArcLineBytes + 1);
    r_.network.reserve_arcs(static_cast<std::size_t>(reserve));
    return true;
  }

  bool handle_node(std::string_view t) {
    split(t, f_);
    if (f_.token[0] != "n") return fail_unknown(t);
    if (!have_problem_) return fail_no_problem(t);
    if (f_.count != 3 && f_.count != 4)
      return fail_fields("'n ID SUPPLY [TYPE]' (3 or 4 fields)", t);
    std::int64_t id = 0;
    std::int64_t supply = 0;
    if (!parse_node_id(f_.token[1], "ID", id)) return false;
    if (!parse_field(f_.token[2], "SUPPLY", supply)) return false;
    std::int64_t type = 0;
    if (f_.count == 4) {
      if (!parse_field(f_.token[3], "TYPE", type)) return false;
      if (type < std::numeric_limits<int>::min() || type > std::numeric_limits<int>::max()) {
        return fail("a node TYPE within 32-bit range", f_.token[3]);
      }
    }
    const auto v = static_cast<std::size_t>(id - 1);
    grow_nodes(v + 1);
    if (has_node_line_[v]) {
      return fail("one 'n' line per node (duplicate 'n' line for node " + std::to_string(id) + ")",
                  t);
    }
    has_node_line_[v] = 1;
    r_.network.set_supply(static_cast<NodeId>(v), supply);
    if (f_.count == 4) {
      if (r_.node_types.size() <= v)
        r_.node_types.resize(grown_size(r_.node_types.size(), v + 1), 0);
      r_.node_types[v] = static_cast<int>(type);
      any_type_ = true;
    }
    if (has_pending_name_) {
      if (r_.node_names.size() <= v) r_.node_names.resize(grown_size(r_.node_names.size(), v + 1));
      r_.node_names[v] = std::move(pending_name_);
      pending_name_.clear();
      has_pending_name_ = false;
      any_name_ = true;
    }
    return true;
  }

  bool handle_arc(std::string_view t) {
    split(t, f_);
    if (f_.token[0] != "a") return fail_unknown(t);
    if (!have_problem_) return fail_no_problem(t);
    has_pending_name_ = false;
    if (arcs_seen_ == num_arcs_) {
      return fail("no more than the " + std::to_string(num_arcs_) + " 'a' lines declared on line " +
                      std::to_string(problem_line_) + " (too many arcs)",
                  t);
    }
    if (f_.count != 6) return fail_fields("'a U V LOW CAP COST' (6 fields)", t);
    std::int64_t u = 0;
    std::int64_t v = 0;
    std::int64_t low = 0;
    std::int64_t cap = 0;
    std::int64_t cost = 0;
    if (!parse_node_id(f_.token[1], "U", u) || !parse_node_id(f_.token[2], "V", v) ||
        !parse_field(f_.token[3], "LOW", low) || !parse_field(f_.token[4], "CAP", cap) ||
        !parse_field(f_.token[5], "COST", cost)) {
      return false;
    }
    if (cap < 0) return fail("a capacity CAP >= 0", f_.token[4]);
    if (low > cap) {
      return fail("lower bound LOW <= capacity CAP",
                  std::string(f_.token[3]) + " > " + std::string(f_.token[4]));
    }
    r_.network.add_arc(static_cast<NodeId>(u - 1), static_cast<NodeId>(v - 1), low, cap, cost);
    ++arcs_seen_;
    return true;
  }

  bool finish(const LineReader& reader) {
    line_ = std::max<std::int64_t>(reader.line_number(), 1);
    if (!have_problem_) {
      if (!any_content_)
        return fail_plain("expected a 'p min N M' problem line, found an empty file");
      return fail_plain("expected a 'p min N M' problem line, found none (missing 'p' line)");
    }
    if (arcs_seen_ != num_arcs_) {
      return fail_plain("declared " + std::to_string(num_arcs_) + " arcs, found " +
                        std::to_string(arcs_seen_));
    }
    // Only now, with the file known good, do node arrays reach the declared size.
    r_.network.resize_nodes(static_cast<NodeId>(num_nodes_));
    const auto n = static_cast<std::size_t>(num_nodes_);
    if (any_type_)
      r_.node_types.resize(n, 0);
    else
      r_.node_types.clear();
    if (any_name_)
      r_.node_names.resize(n);
    else
      r_.node_names.clear();
    r_.ok = true;
    return true;
  }

  // A header may declare more nodes than any machine here could hold (`p min 2000000000 0`
  // is within the id limits, but the node arrays alone would take tens of GiB): refuse it
  // up front, naming both figures, rather than let the allocation kill the process. Arcs
  // need no such check: their storage grows only with the arcs actually read. ≈64 bytes a
  // node: the network's supply plus the solver's per-node arrays.
  bool fits_in_memory(std::string_view t) {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page_size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page_size <= 0) return true;
    const double machine = static_cast<double>(pages) * static_cast<double>(page_size);
    const double need = static_cast<double>(num_nodes_) * 64.0;
    if (need <= machine) return true;
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "a node count that fits in memory (%lld nodes need about %.1f GiB to solve; "
                  "this machine has %.1f GiB)",
                  static_cast<long long>(num_nodes_), need / (1 << 30), machine / (1 << 30));
    return fail(buf, t);
  }

  // ---- fields -------------------------------------------------------------------------

  bool parse_count(std::string_view tok, const char* what, std::int64_t max, std::int64_t& out) {
    const IntParse p = parse_int64(tok, out);
    if (p == IntParse::kNotInteger) return fail(std::string("an integer ") + what + " count", tok);
    if (p == IntParse::kOverflow || out < 0 || out > max) {
      return fail(std::string(what) + " count in range [0, " + std::to_string(max) + "] (" + what +
                      " count out of range)",
                  tok);
    }
    return true;
  }

  bool parse_field(std::string_view tok, const char* name, std::int64_t& out) {
    const IntParse p = parse_int64(tok, out);
    if (p == IntParse::kNotInteger) return fail(std::string("an integer ") + name, tok);
    if (p == IntParse::kOverflow) {
      return fail(std::string("an integer ") + name + " within 64-bit range (integer overflow)",
                  tok);
    }
    return true;
  }

  bool parse_node_id(std::string_view tok, const char* name, std::int64_t& out) {
    if (!parse_field(tok, name, out)) return false;
    if (out < 1 || out > num_nodes_) {
      return fail(std::string("node id ") + name + " in range [1, " + std::to_string(num_nodes_) +
                      "] (node id out of range)",
                  tok);
    }
    return true;
  }

  // ---- node arrays grow with the ids seen, doubling, never past N ----------------------

  [[nodiscard]] std::size_t grown_size(std::size_t have, std::size_t need) const {
    const std::size_t doubled = std::max<std::size_t>(need, 2 * have);
    return std::min<std::size_t>(doubled, static_cast<std::size_t>(num_nodes_));
  }

  void grow_nodes(std::size_t need) {
    if (has_node_line_.size() >= need) return;
    const std::size_t size = grown_size(has_node_line_.size(), need);
    has_node_line_.resize(size, 0);
    r_.network.resize_nodes(static_cast<NodeId>(size));
  }

  // ---- errors -------------------------------------------------------------------------

  bool fail_plain(const std::string& what) {
    r_.error = std::string(source_) + ":" + std::to_string(line_) + ": " + what;
    return false;
  }
  bool fail(const std::string& expected, std::string_view found) {
    return fail_plain("expected " + expected + ", found '" + excerpt(found) + "'");
  }
  bool fail_fields(const std::string& expected, std::string_view line) {
    return fail_plain("expected " + expected + ", found " + std::to_string(f_.count) +
                      " fields (wrong field count) in '" + excerpt(line) + "'");
  }
  bool fail_unknown(std::string_view line) {
    return fail("a 'c', 'p', 'n' or 'a' line (unknown line type)", line);
  }
  bool fail_no_problem(std::string_view line) {
    return fail("the problem line 'p min N M' first (missing 'p' line)", line);
  }

 private:
  std::string_view source_;
  DimacsReadResult& r_;
  std::uint64_t size_hint_;
  std::int64_t max_nodes_;
  std::int64_t max_arcs_;
  std::int64_t line_ = 0;
  Fields f_;

  bool have_problem_ = false;
  std::int64_t problem_line_ = 0;
  std::int64_t num_nodes_ = 0;
  std::int64_t num_arcs_ = 0;
  std::int64_t arcs_seen_ = 0;
  bool any_content_ = false;

  std::vector<std::uint8_t> has_node_line_;
  bool any_type_ = false;
  bool any_name_ = false;
  std::string pending_name_;
  bool has_pending_name_ = false;
};

DimacsReadResult read_from(const ChunkSource& source, std::string_view source_name,
                           std::uint64_t size_hint, const DimacsLimits& limits) {
  DimacsReadResult result;
  try {
    LineReader reader(source, size_hint);
    Parser parser(source_name, result, size_hint, limits);
    if (!parser.run(reader)) {
      std::string error = std::move(result.error);
      result = DimacsReadResult{};
      result.error = std::move(error);
    }
  } catch (const std::bad_alloc&) {
    result = DimacsReadResult{};
    result.error = std::string(source_name) + ": out of memory while reading";
  } catch (const std::exception& e) {
    result = DimacsReadResult{};
    result.error = std::string(source_name) + ": read failed: " + e.what();
  } catch (...) {
    result = DimacsReadResult{};
    result.error = std::string(source_name) + ": read failed";
  }
  return result;
}

// Byte count left in a seekable stream, 0 when it cannot be known (pipes, std::cin).
std::uint64_t remaining_bytes(std::istream& in) {
  const std::streampos pos = in.tellg();
  if (pos == std::streampos(-1)) {
    in.clear();
    return 0;
  }
  std::uint64_t size = 0;
  in.seekg(0, std::ios::end);
  const std::streampos end = in.tellg();
  if (in && end != std::streampos(-1) && end >= pos) size = static_cast<std::uint64_t>(end - pos);
  in.clear();
  in.seekg(pos);
  in.clear();
  return size;
}

// Collects output and hands it to the stream in large writes.
class BufferedWriter {
 public:
  explicit BufferedWriter(std::ostream& out) : out_(out) { buf_.reserve(kWriteFlushBytes + 64); }

  BufferedWriter& operator<<(std::string_view s) {
    buf_.append(s);
    return *this;
  }
  BufferedWriter& operator<<(char c) {
    buf_.push_back(c);
    return *this;
  }
  BufferedWriter& operator<<(std::int64_t v) {
    std::array<char, 24> tmp{};
    const auto [ptr, ec] = std::to_chars(tmp.data(), tmp.data() + tmp.size(), v);
    (void)ec;  // 24 bytes always hold an int64
    buf_.append(tmp.data(), ptr);
    return *this;
  }
  void end_line() {
    buf_.push_back('\n');
    if (buf_.size() >= kWriteFlushBytes) flush();
  }
  // Each line of `text` as a `c` line (the first after `label`, e.g. "status: "); a final
  // newline adds no empty line.
  void comment_lines(std::string_view text, std::string_view label = {}) {
    bool first = true;
    for (;;) {
      const std::size_t nl = text.find('\n');
      std::string_view piece = text.substr(0, nl);
      while (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
      const std::string_view head = first ? label : std::string_view{};
      *this << 'c';
      if (!head.empty() || !piece.empty()) *this << ' ' << head << piece;
      end_line();
      first = false;
      if (nl == std::string_view::npos || nl + 1 == text.size()) break;
      text.remove_prefix(nl + 1);
    }
  }
  void flush() {
    if (!buf_.empty()) out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }

 private:
  std::ostream& out_;
  std::string buf_;
};

}  // namespace

DimacsReadResult read_dimacs(std::istream& in, std::string_view source_name, const DimacsLimits& limits) {
  try {
    if (!in) {
      DimacsReadResult result;
      result.error = std::string(source_name) + ": cannot read: the stream is in a failed state";
      return result;
    }
    const std::uint64_t size_hint = remaining_bytes(in);
    ChunkSource source = [&in](char* dst, std::size_t capacity, std::string& error) -> std::size_t {
      if (in.bad()) {
        error = "the stream failed";
        return 0;
      }
      if (!in) return 0;  // end of input was reached on the previous read
      in.read(dst, static_cast<std::streamsize>(capacity));
      if (in.bad()) {
        error = "the stream failed";
        return 0;
      }
      return static_cast<std::size_t>(in.gcount());
    };
    return read_from(source, source_name, size_hint, limits);
  } catch (...) {
    DimacsReadResult result;
    result.error = std::string(source_name) + ": read failed";
    return result;
  }
}

DimacsReadResult read_dimacs_file(const std::string& path, const DimacsLimits& limits) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    DimacsReadResult result;
    result.error = "cannot open " + path + ": " + std::strerror(errno);
    return result;
  }
  std::uint64_t size_hint = 0;
  if (std::fseek(file, 0, SEEK_END) == 0) {
    const long end = std::ftell(file);
    if (end > 0) size_hint = static_cast<std::uint64_t>(end);
  }
  std::rewind(file);
  ChunkSource source = [file](char* dst, std::size_t capacity, std::string& error) -> std::size_t {
    const std::size_t got = std::fread(dst, 1, capacity, file);
    if (got == 0 && std::ferror(file)) error = std::strerror(errno);
    return got;
  };
  DimacsReadResult result = read_from(source, path, size_hint, limits);
  std::fclose(file);
  return result;
}

void write_dimacs(std::ostream& out, const Network& network, std::string_view comment) {
  BufferedWriter w(out);
  if (!comment.empty()) w.comment_lines(comment);
  w << "p min " << std::int64_t{network.num_nodes()} << ' ' << std::int64_t{network.num_arcs()};
  w.end_line();
  for (NodeId v = 0; v < network.num_nodes(); ++v) {
    if (network.supply(v) == 0) continue;
    w << "n " << std::int64_t{v} + 1 << ' ' << network.supply(v);
    w.end_line();
  }
  for (ArcId a = 0; a < network.num_arcs(); ++a) {
    w << "a " << std::int64_t{network.tail(a)} + 1 << ' ' << std::int64_t{network.head(a)} + 1
      << ' ' << network.lower(a) << ' ' << network.capacity(a) << ' ' << network.cost(a);
    w.end_line();
  }
  w.flush();
}

void write_dimacs_solution(std::ostream& out, const Network& network, const SolveResult& result,
                           bool with_flows) {
  BufferedWriter w(out);
  w.comment_lines(result.backend ? to_string(*result.backend) : std::string_view("(none)"),
                  "backend: ");
  w.comment_lines(result.algorithm.empty() ? std::string_view("(none)") : result.algorithm,
                  "algorithm: ");
  if (result.fell_back) w.comment_lines(result.fallback_reason, "fallback: ");
  if (result.status != Status::kOptimal) {
    w.comment_lines(to_string(result.status), "status: ");
    if (!result.message.empty()) w.comment_lines(result.message);
    w.flush();
    return;
  }
  w << "s " << result.total_cost;
  w.end_line();
  if (with_flows) {
    // A result shorter than the network (a broken backend) writes what it has.
    const auto arcs = static_cast<ArcId>(
        std::min<std::size_t>(result.flow.size(), static_cast<std::size_t>(network.num_arcs())));
    for (ArcId a = 0; a < arcs; ++a) {
      const std::int64_t flow = result.flow[static_cast<std::size_t>(a)];
      if (flow == 0) continue;
      w << "f " << std::int64_t{network.tail(a)} + 1 << ' ' << std::int64_t{network.head(a)} + 1
        << ' ' << flow;
      w.end_line();
    }
  }
  w.flush();
}

}  // namespace sluice
