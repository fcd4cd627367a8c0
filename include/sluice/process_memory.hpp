// Memory set-up for processes that handle whole cluster snapshots (the sluice tool, the
// benchmarks, a master linking the client). Call it first thing in main().
//
// Why: a 1M-task snapshot is some 400 MB of small blocks, and the replies and ZeroMQ frames
// around it are 80–160 MB each. On machines where first-touch page faults are slow (this
// project's CI and benchmark machines: fresh memory costs more to fault in than to decode
// a snapshot into), how the allocator gets memory from the kernel decides a large share
// of a one-shot run: a 1M-task `sluice allocate` takes 5.6 s with huge pages and 7.6 s
// without (bench/results/allocate_1m_breakdown).
#pragma once

namespace sluice {

struct ProcessMemoryOptions {
  // Keep freed memory for reuse instead of returning it to the kernel, and serve every
  // block, however large, from one arena (a thread's arena would mmap large blocks afresh
  // for every request).
  bool keep_freed_memory = true;
  // Ask glibc to back the heap with transparent huge pages (the tunable
  // glibc.malloc.hugetlb=1), 512× fewer page faults. Tunables are read at process start,
  // so the process re-executes itself once with the tunable added to GLIBC_TUNABLES. Done
  // only when the kernel's THP mode is "madvise" (with "always" it is not needed), the
  // tunable is not set already, SLUICE_HUGE_PAGES is not "0", and the build is not
  // sanitized. If the re-execution fails the process goes on as it is.
  bool huge_pages = true;
};

// Applies the options; may not return (re-execution). `argv` is main's, NULL-terminated.
void tune_process_memory(char** argv, const ProcessMemoryOptions& options = {});

// Returns the heap's free memory to the kernel (glibc's malloc_trim): keep_freed_memory keeps
// it otherwise, so a long-running process that once handled an outsized request would hold
// that much for good. Costs a walk over the heap's free blocks (milliseconds): call it after
// rare, large work, not every request.
void release_freed_memory();

// True when this process runs with glibc's huge-page tunable.
[[nodiscard]] bool huge_pages_enabled();

}  // namespace sluice
