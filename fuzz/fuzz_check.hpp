// What the fuzzers hold the decoders to besides "no crash, no sanitizer report": a failed
// check prints what failed and aborts, which libFuzzer records as a finding with its input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define SLUICE_FUZZ_CHECK(cond, what)                                           \
  do {                                                                          \
    if (!(cond)) ::sluice::fuzz::check_failed(#cond, what, __FILE__, __LINE__); \
  } while (0)

namespace sluice::fuzz {

[[noreturn]] inline void check_failed(const char* cond, std::string_view what, const char* file, int line) {
  std::fprintf(stderr, "fuzz check failed: %s (%.*s) at %s:%d\n", cond, static_cast<int>(what.size()), what.data(),
               file, line);
  std::abort();
}

}  // namespace sluice::fuzz
