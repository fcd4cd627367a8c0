// Importer for the Alibaba "openb" GPU-cluster trace (cluster-trace-gpu-v2023, the data of
// the FGD paper, ATC'23): a node CSV and a pod CSV become a Snapshot, so the FGD replay
// (pods in creation order into an empty cluster) and point-in-time cluster states can be
// fed to the solver.
//
// Mapping (the trace has no topology, jobs or priorities; these are choices, kept here):
//   node row i -> Machine{id = sn, rack = "rack-NNNN" with NNNN = i / machines_per_rack
//                 (zero-padded to 4 digits), zone = "", capacity = free = the row's
//                 cpu_milli / memory_mib, `gpu` devices indexed 0..gpu-1 of type `model`,
//                 all free}. `model` is empty for CPU-only nodes ("nan", as pandas writes
//                 a missing value, counts as empty).
//   pod row    -> one Job holding one pending Task, both with id = name (pods are
//                 independent in this trace); submit_time = creation_time.
//     priority from qos: Guaranteed 3 > LS (latency sensitive) 2 > Burstable 1 >
//                 BE / BestEffort / empty 0. Any other value is an error.
//     GPUs (gpu_milli must be 0..1000 on every row; num_gpu 0..1024):
//       num_gpu == 0          CPU-only; gpu_milli and gpu_spec are ignored (the trace
//                             defines gpu_milli only for num_gpu == 1).
//       num_gpu == 1          gpu_milli 1..999 -> a share (Task::gpu_milli);
//                             gpu_milli 1000   -> one whole GPU (Task::gpus = 1);
//                             gpu_milli 0      -> error (a GPU pod asking for nothing).
//       num_gpu >= 2          Task::gpus = num_gpu whole devices; gpu_milli is ignored
//                             (it is 1000 on every such row of the published files).
//     gpu_spec               split on '|' into Task::gpu_models; empty pieces and repeats
//                             dropped ("V100M16|V100M32|V100M32" occurs); empty or "nan"
//                             means any model.
//     pod_phase, scheduled_time are checked for form and otherwise unused: every pod is
//                             imported pending (the FGD replay starts from an empty cluster).
//   Pod columns gpu_spec, qos, pod_phase and the three times are optional (the published
//   multigpu20 sample has only the first five): missing times read as creation 0, never
//   deleted, so creation order is file order and every pod is alive at any t >= 0.
//
// Modes: kPendingQueue takes every pod, stably sorted by creation_time (ties keep file
// order), Snapshot.time = 0. kAliveAt takes the pods with creation_time <= at_time <
// deletion_time (deletion_time empty or 0 = never deleted), in the same order, and
// Snapshot.time = at_time. Snapshot.version = 1.
//
// Parsing: each file is read whole (the largest is ~0.6 MB) and split in place; fields are
// string_views, integers go through std::from_chars. The header names the columns (any
// order); a missing required or unknown column is an error. CRLF and a UTF-8 BOM are
// tolerated, blank lines skipped, simple double-quoted fields accepted. A NUL byte, and a
// name, model or gpu_spec over 4096 bytes (SnapshotLimits::max_string_bytes), are errors:
// what imports, validates. Errors are data
// ("FILE:LINE: expected ..., found '...'"); nothing throws out of import_openb.
//
// The reading itself (both files, pods in creation order with their deletion times) is
// detail::read_openb_tables (openb_csv.hpp), which the trace replay uses as well;
// detail::read_openb_tables_from_text runs the same parser on text in memory (fuzz/).
#include "sluice/openb.hpp"

#include "openb_csv.hpp"
#include "text_excerpt.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sluice {
namespace {

constexpr std::size_t kExcerptChars = 64;
constexpr std::int64_t kMaxGpusPerRow = 1024;  // SnapshotLimits::max_gpus_per_machine
constexpr std::int64_t kNeverDeleted = detail::kOpenbNeverDeleted;

constexpr std::int32_t kPriorityGuaranteed = 3;
constexpr std::int32_t kPriorityLatencySensitive = 2;
constexpr std::int32_t kPriorityBurstable = 1;
constexpr std::int32_t kPriorityBestEffort = 0;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// The offending text as it goes into a message (see src/common/text_excerpt.hpp).
std::string excerpt(std::string_view s) { return detail::excerpt(s, kExcerptChars); }

bool read_whole_file(const std::string& path, std::string& text, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  std::array<char, 1 << 16> buf{};
  for (;;) {
    const std::size_t n = std::fread(buf.data(), 1, buf.size(), f);
    text.append(buf.data(), n);
    if (n < buf.size()) break;
  }
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) {
    error = "cannot read " + path + ": " + std::strerror(err);
    return false;
  }
  return true;
}

// One CSV file, walked line by line. Lines and fields are views into `text_` (or, for
// quoted fields with "" escapes, into `scratch_`), valid until the next line.
class CsvReader {
 public:
  CsvReader(std::string path, std::string text) : path_(std::move(path)), text_(std::move(text)) {
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
  }

  // Advances to the next non-blank line and splits it; false at end of file or on a
  // malformed quote (then error() is set).
  bool next() {
    while (pos_ < text_.size()) {
      const std::size_t end = std::min(text_.find('\n', pos_), text_.size());
      std::string_view line(text_.data() + pos_, end - pos_);
      pos_ = end + 1;
      ++line_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      // Snapshot strings may not hold a NUL (validate() refuses them; found by fuzz/openb_fuzz).
      if (const std::size_t nul = line.find('\0'); nul != std::string_view::npos) {
        return fail("expected text, found a NUL byte at column " + std::to_string(nul + 1));
      }
      if (trim(line).empty()) continue;
      return split(line);
    }
    return false;
  }

  [[nodiscard]] const std::vector<std::string_view>& fields() const { return fields_; }
  // The most rows this file can hold (a row takes at least 8 bytes, "a,0,0,0,\n"), at most
  // `cap`: what to reserve, so a small input does not pay for the full trace's tables.
  [[nodiscard]] std::size_t rows_at_most(std::size_t cap) const { return std::min(cap, text_.size() / 8 + 1); }
  [[nodiscard]] std::int64_t line() const { return line_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::string& error() const { return error_; }

  // "FILE:LINE: what"
  [[nodiscard]] std::string at(const std::string& what) const {
    return path_ + ":" + std::to_string(std::max<std::int64_t>(line_, 1)) + ": " + what;  // an empty file: line 1
  }
  bool fail(const std::string& what) {
    error_ = at(what);
    return false;
  }

 private:
  bool split(std::string_view line) {
    fields_.clear();
    scratch_.clear();
    scratch_.reserve(line.size());  // views into scratch_ stay valid: it never grows past this
    std::size_t i = 0;
    for (;;) {
      // Skip blanks before a possible opening quote.
      std::size_t j = i;
      while (j < line.size() && is_blank(line[j])) ++j;
      if (j < line.size() && line[j] == '"') {
        const std::size_t start = scratch_.size();
        std::size_t k = j + 1;
        for (;;) {
          if (k >= line.size()) return fail("expected a closing '\"', found end of line");
          if (line[k] == '"') {
            if (k + 1 < line.size() && line[k + 1] == '"') {
              scratch_.push_back('"');
              k += 2;
              continue;
            }
            ++k;
            break;
          }
          scratch_.push_back(line[k++]);
        }
        while (k < line.size() && is_blank(line[k])) ++k;
        if (k < line.size() && line[k] != ',') {
          return fail("expected ',' after a quoted field, found '" + excerpt(line.substr(k)) + "'");
        }
        fields_.emplace_back(scratch_.data() + start, scratch_.size() - start);
        if (k >= line.size()) return true;
        i = k + 1;
        continue;
      }
      const std::size_t comma = line.find(',', i);
      if (comma == std::string_view::npos) {
        fields_.push_back(trim(line.substr(i)));
        return true;
      }
      fields_.push_back(trim(line.substr(i, comma - i)));
      i = comma + 1;
    }
  }

  std::string path_;
  std::string text_;
  std::size_t pos_ = 0;
  std::int64_t line_ = 0;
  std::vector<std::string_view> fields_;
  std::string scratch_;
  std::string error_;
};

struct ColumnSpec {
  std::string_view name;
  bool required = true;
};

// Where each expected column sits in the file (-1: absent, only for optional columns).
struct Header {
  std::vector<int> position;
  std::size_t field_count = 0;
};

std::string column_list(const std::vector<ColumnSpec>& spec) {
  std::string out;
  for (const ColumnSpec& c : spec) {
    if (!out.empty()) out += ',';
    out += c.name;
  }
  return out;
}

bool read_header(CsvReader& csv, const std::vector<ColumnSpec>& spec, Header& header) {
  if (!csv.next()) {
    if (!csv.error().empty()) return false;
    return csv.fail("expected a header (" + column_list(spec) + "), found end of file");
  }
  header.position.assign(spec.size(), -1);
  header.field_count = csv.fields().size();
  for (std::size_t f = 0; f < csv.fields().size(); ++f) {
    const std::string_view name = csv.fields()[f];
    const auto it = std::find_if(spec.begin(), spec.end(), [&](const ColumnSpec& c) { return c.name == name; });
    if (it == spec.end()) {
      return csv.fail("unknown column '" + excerpt(name) + "' (expected " + column_list(spec) + ")");
    }
    int& pos = header.position[static_cast<std::size_t>(it - spec.begin())];
    if (pos >= 0) return csv.fail("column '" + std::string(name) + "' appears twice");
    pos = static_cast<int>(f);
  }
  for (std::size_t c = 0; c < spec.size(); ++c) {
    if (spec[c].required && header.position[c] < 0) {
      return csv.fail("missing column '" + std::string(spec[c].name) + "' (expected " + column_list(spec) + ")");
    }
  }
  return true;
}

// A data row's field count must match the header's.
bool check_row_width(CsvReader& csv, const Header& header) {
  if (csv.fields().size() == header.field_count) return true;
  return csv.fail("expected " + std::to_string(header.field_count) + " fields, found " +
                  std::to_string(csv.fields().size()));
}

bool parse_count(CsvReader& csv, std::string_view text, std::string_view column, std::int64_t& out) {
  const char* const first = text.data();
  const char* const last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(first, last, out);
  if (ec == std::errc::result_out_of_range) {
    return csv.fail("expected an integer " + std::string(column) + " that fits 64 bits, found '" + excerpt(text) + "'");
  }
  if (ec != std::errc{} || ptr != last || text.empty()) {
    return csv.fail("expected an integer " + std::string(column) + ", found '" + excerpt(text) + "'");
  }
  if (out < 0) return csv.fail("expected a non-negative " + std::string(column) + ", found '" + excerpt(text) + "'");
  return true;
}

bool parse_bounded(CsvReader& csv, std::string_view text, std::string_view column, std::int64_t max,
                   std::int64_t& out) {
  if (!parse_count(csv, text, column, out)) return false;
  if (out > max) {
    return csv.fail("expected " + std::string(column) + " in 0.." + std::to_string(max) + ", found '" + excerpt(text) +
                    "'");
  }
  return true;
}

bool is_missing(std::string_view s) { return s.empty() || s == "nan" || s == "NaN"; }

// Records `name` as first seen on this line, or fails naming both lines.
// Names become snapshot strings, held to SnapshotLimits::max_string_bytes so that an
// imported trace always validates (found by fuzz/openb_fuzz).
constexpr std::int64_t kMaxNameBytes = SnapshotLimits{}.max_string_bytes;

bool check_length(CsvReader& csv, std::string_view text, std::string_view column) {
  if (static_cast<std::int64_t>(text.size()) <= kMaxNameBytes) return true;
  return csv.fail("expected a " + std::string(column) + " of at most " + std::to_string(kMaxNameBytes) +
                  " bytes, found " + std::to_string(text.size()) + " bytes ('" + excerpt(text) + "')");
}

bool check_unique(CsvReader& csv, std::unordered_map<std::string_view, std::int64_t>& seen, std::string_view name,
                  std::string_view what, std::string_view column) {
  if (name.empty()) return csv.fail("expected a non-empty " + std::string(column) + ", found ''");
  if (!check_length(csv, name, column)) return false;
  const auto [it, inserted] = seen.emplace(name, csv.line());
  if (inserted) return true;
  return csv.fail("duplicate " + std::string(what) + " '" + excerpt(name) + "' (first on line " +
                  std::to_string(it->second) + ")");
}

std::string rack_name(std::int64_t rack) {
  std::string digits = std::to_string(rack);
  if (digits.size() < 4) digits.insert(0, 4 - digits.size(), '0');
  return "rack-" + digits;
}

// ---- nodes ----------------------------------------------------------------------------

enum NodeColumn : std::size_t { kSn, kNodeCpu, kNodeMemory, kNodeGpu, kNodeModel };

bool import_nodes(CsvReader& csv, std::int32_t machines_per_rack, std::vector<Machine>& machines) {
  static const std::vector<ColumnSpec> kSpec = {
      {"sn"}, {"cpu_milli"}, {"memory_mib"}, {"gpu"}, {"model"}};
  Header header;
  if (!read_header(csv, kSpec, header)) return false;
  const auto field = [&](NodeColumn c) { return csv.fields()[static_cast<std::size_t>(header.position[c])]; };

  // Keys view the file text, which outlives this loop (growing `machines` cannot move them).
  std::unordered_map<std::string_view, std::int64_t> seen;
  seen.reserve(csv.rows_at_most(2048));
  while (csv.next()) {
    if (!check_row_width(csv, header)) return false;
    const std::string_view sn = field(kSn);
    if (!check_unique(csv, seen, sn, "node", "sn")) return false;
    std::int64_t cpu = 0;
    std::int64_t memory = 0;
    std::int64_t gpus = 0;
    if (!parse_count(csv, field(kNodeCpu), "cpu_milli", cpu)) return false;
    if (!parse_count(csv, field(kNodeMemory), "memory_mib", memory)) return false;
    if (!parse_bounded(csv, field(kNodeGpu), "gpu", kMaxGpusPerRow, gpus)) return false;
    const std::string_view model = is_missing(field(kNodeModel)) ? std::string_view{} : field(kNodeModel);
    if (!check_length(csv, model, "model")) return false;

    const auto row = static_cast<std::int64_t>(machines.size());
    Machine& m = machines.emplace_back();
    m.id = std::string(sn);
    m.rack = rack_name(row / machines_per_rack);
    m.cpu_milli = m.free_cpu_milli = cpu;
    m.memory_mib = m.free_memory_mib = memory;
    m.gpus.resize(static_cast<std::size_t>(gpus));
    for (std::size_t g = 0; g < m.gpus.size(); ++g) {
      m.gpus[g].index = static_cast<std::int32_t>(g);
      m.gpus[g].model = std::string(model);
      m.gpus[g].free_milli = kGpuMilliWhole;
    }
  }
  return csv.error().empty();
}

// ---- pods -----------------------------------------------------------------------------

enum PodColumn : std::size_t {
  kName,
  kPodCpu,
  kPodMemory,
  kNumGpu,
  kGpuMilli,
  kGpuSpec,
  kQos,
  kPodPhase,
  kCreation,
  kDeletion,
  kScheduled,
};

bool parse_qos(CsvReader& csv, std::string_view qos, std::int32_t& priority) {
  if (qos == "Guaranteed") {
    priority = kPriorityGuaranteed;
  } else if (qos == "LS") {
    priority = kPriorityLatencySensitive;
  } else if (qos == "Burstable") {
    priority = kPriorityBurstable;
  } else if (qos == "BE" || qos == "BestEffort" || is_missing(qos)) {
    priority = kPriorityBestEffort;
  } else {
    return csv.fail("expected a qos (Guaranteed, LS, Burstable, BE), found '" + excerpt(qos) + "'");
  }
  return true;
}

bool parse_phase(CsvReader& csv, std::string_view phase) {
  static constexpr std::array<std::string_view, 5> kPhases = {"Pending", "Running", "Succeeded", "Failed", "Unknown"};
  if (phase.empty() || std::find(kPhases.begin(), kPhases.end(), phase) != kPhases.end()) return true;
  return csv.fail("expected a pod_phase (Pending, Running, Succeeded, Failed, Unknown), found '" + excerpt(phase) +
                  "'");
}

void split_models(std::string_view spec, std::vector<std::string>& models) {
  if (is_missing(spec)) return;
  while (true) {
    const std::size_t bar = spec.find('|');
    const std::string_view piece = trim(spec.substr(0, bar));
    if (!piece.empty() && std::find(models.begin(), models.end(), piece) == models.end()) {
      models.emplace_back(piece);
    }
    if (bar == std::string_view::npos) return;
    spec.remove_prefix(bar + 1);
  }
}

bool import_pods(CsvReader& csv, std::vector<detail::OpenbPod>& pods) {
  static const std::vector<ColumnSpec> kSpec = {
      {"name"},           {"cpu_milli"},          {"memory_mib"},     {"num_gpu"},
      {"gpu_milli"},      {"gpu_spec", false},    {"qos", false},     {"pod_phase", false},
      {"creation_time", false}, {"deletion_time", false}, {"scheduled_time", false}};
  Header header;
  if (!read_header(csv, kSpec, header)) return false;
  const auto has = [&](PodColumn c) { return header.position[c] >= 0; };
  const auto field = [&](PodColumn c) { return csv.fields()[static_cast<std::size_t>(header.position[c])]; };

  std::unordered_map<std::string_view, std::int64_t> seen;
  seen.reserve(csv.rows_at_most(16384));
  while (csv.next()) {
    if (!check_row_width(csv, header)) return false;
    const std::string_view name = field(kName);
    if (!check_unique(csv, seen, name, "pod", "name")) return false;

    std::int64_t cpu = 0;
    std::int64_t memory = 0;
    std::int64_t num_gpu = 0;
    std::int64_t gpu_milli = 0;
    if (!parse_count(csv, field(kPodCpu), "cpu_milli", cpu)) return false;
    if (!parse_count(csv, field(kPodMemory), "memory_mib", memory)) return false;
    if (!parse_bounded(csv, field(kNumGpu), "num_gpu", kMaxGpusPerRow, num_gpu)) return false;
    if (!parse_bounded(csv, field(kGpuMilli), "gpu_milli", kGpuMilliWhole, gpu_milli)) return false;
    if (num_gpu == 1 && gpu_milli == 0) {
      return csv.fail("expected gpu_milli in 1..1000 when num_gpu is 1, found '" + excerpt(field(kGpuMilli)) + "'");
    }

    std::int32_t priority = kPriorityBestEffort;
    if (has(kQos) && !parse_qos(csv, field(kQos), priority)) return false;
    if (has(kPodPhase) && !parse_phase(csv, field(kPodPhase))) return false;
    std::int64_t creation = 0;
    std::int64_t deletion = 0;
    std::int64_t scheduled = 0;
    if (has(kCreation) && !parse_count(csv, field(kCreation), "creation_time", creation)) return false;
    if (has(kDeletion) && !field(kDeletion).empty() &&
        !parse_count(csv, field(kDeletion), "deletion_time", deletion)) {
      return false;
    }
    if (has(kScheduled) && !field(kScheduled).empty() &&
        !parse_count(csv, field(kScheduled), "scheduled_time", scheduled)) {
      return false;
    }

    detail::OpenbPod& pod = pods.emplace_back();
    pod.deletion = deletion == 0 ? kNeverDeleted : deletion;
    pod.job.id = std::string(name);
    pod.job.priority = priority;
    pod.job.submit_time = creation;
    Task& task = pod.job.tasks.emplace_back();
    task.id = pod.job.id;
    task.cpu_milli = cpu;
    task.memory_mib = memory;
    task.state = TaskState::kPending;
    if (num_gpu == 1 && gpu_milli < kGpuMilliWhole) {
      task.gpu_milli = static_cast<std::int32_t>(gpu_milli);
    } else if (num_gpu >= 1) {
      task.gpus = static_cast<std::int32_t>(num_gpu);
    }
    if (num_gpu >= 1 && has(kGpuSpec)) {
      if (!check_length(csv, field(kGpuSpec), "gpu_spec")) return false;
      split_models(field(kGpuSpec), task.gpu_models);
    }
  }
  return csv.error().empty();
}

bool open_csv(const std::string& path, std::unique_ptr<CsvReader>& out, std::string& error) {
  std::string text;
  if (!read_whole_file(path, text, error)) return false;
  out = std::make_unique<CsvReader>(path, std::move(text));
  return true;
}

// Both tables from two CSV sources. Each source is opened only when its turn comes, so a
// malformed node file is reported before an unreadable pod file, whatever the source.
template <class OpenNodes, class OpenPods>
bool read_tables(OpenNodes&& open_nodes, OpenPods&& open_pods, std::int32_t machines_per_rack,
                 detail::OpenbTables& tables, std::string& error) {
  if (machines_per_rack <= 0) {
    error = "machines_per_rack must be positive, found " + std::to_string(machines_per_rack);
    return false;
  }

  // 1. Nodes -> machines, in file order.
  std::unique_ptr<CsvReader> nodes;
  if (!open_nodes(nodes, error)) return false;
  std::vector<Machine> machines;
  machines.reserve(nodes->rows_at_most(2048));
  if (!import_nodes(*nodes, machines_per_rack, machines)) {
    error = nodes->error();
    return false;
  }
  nodes.reset();

  // 2. Pods -> one job each, in file order.
  std::unique_ptr<CsvReader> pod_file;
  if (!open_pods(pod_file, error)) return false;
  std::vector<detail::OpenbPod> pods;
  pods.reserve(pod_file->rows_at_most(16384));
  if (!import_pods(*pod_file, pods)) {
    error = pod_file->error();
    return false;
  }
  pod_file.reset();

  // 3. Creation order (stable: ties keep file order).
  std::vector<std::uint32_t> order(pods.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return pods[a].job.submit_time < pods[b].job.submit_time;
  });
  tables.machines = std::move(machines);
  tables.pods.clear();
  tables.pods.reserve(pods.size());
  for (const std::uint32_t i : order) tables.pods.push_back(std::move(pods[i]));
  return true;
}

}  // namespace

namespace detail {

bool read_openb_tables(const std::string& nodes_csv, const std::string& pods_csv, std::int32_t machines_per_rack,
                       OpenbTables& tables, std::string& error) {
  return read_tables([&](std::unique_ptr<CsvReader>& out, std::string& e) { return open_csv(nodes_csv, out, e); },
                     [&](std::unique_ptr<CsvReader>& out, std::string& e) { return open_csv(pods_csv, out, e); },
                     machines_per_rack, tables, error);
}

bool read_openb_tables_from_text(std::string nodes_text, const std::string& nodes_name, std::string pods_text,
                                 const std::string& pods_name, std::int32_t machines_per_rack, OpenbTables& tables,
                                 std::string& error) {
  auto from_text = [](const std::string& name, std::string& text) {
    return [&name, &text](std::unique_ptr<CsvReader>& out, std::string&) {
      out = std::make_unique<CsvReader>(name, std::move(text));
      return true;
    };
  };
  return read_tables(from_text(nodes_name, nodes_text), from_text(pods_name, pods_text), machines_per_rack, tables,
                     error);
}

}  // namespace detail

namespace {

OpenbImportResult import_unchecked(const std::string& nodes_csv, const std::string& pods_csv,
                                   const OpenbImportOptions& options) {
  OpenbImportResult result;
  // 1. Both files, pods in creation order.
  detail::OpenbTables tables;
  if (!detail::read_openb_tables(nodes_csv, pods_csv, options.machines_per_rack, tables, result.error)) return result;

  // 2. The mode's filter.
  const bool alive_only = options.mode == OpenbImportOptions::Mode::kAliveAt;
  Snapshot& snapshot = result.snapshot;
  snapshot.version = 1;
  snapshot.time = alive_only ? options.at_time : 0;
  snapshot.machines = std::move(tables.machines);
  snapshot.jobs.reserve(tables.pods.size());
  for (detail::OpenbPod& pod : tables.pods) {
    if (alive_only && !(pod.job.submit_time <= options.at_time && options.at_time < pod.deletion)) continue;
    snapshot.jobs.push_back(std::move(pod.job));
  }
  result.ok = true;
  return result;
}

}  // namespace

OpenbImportResult import_openb(const std::string& nodes_csv, const std::string& pods_csv,
                               const OpenbImportOptions& options) {
  try {
    return import_unchecked(nodes_csv, pods_csv, options);
  } catch (const std::bad_alloc&) {
    OpenbImportResult result;
    result.error = "out of memory importing " + nodes_csv + " and " + pods_csv;
    return result;
  } catch (const std::exception& e) {
    OpenbImportResult result;
    result.error = std::string("cannot import ") + nodes_csv + " and " + pods_csv + ": " + e.what();
    return result;
  }
}

}  // namespace sluice
