// Sanitizer settings built into every fuzz-build executable, so a fuzzer run by hand (or on
// a crash artifact) behaves as under the `fuzz` target: a UBSan report ends the run with a
// stack trace, minus the third-party reports listed in fuzz/ubsan.supp. UBSan checks are
// compiled recoverable because suppressions apply only to those; halt_on_error makes every
// report that is not suppressed fatal. Environment variables still override these.
extern "C" const char* __ubsan_default_options() {
  return "halt_on_error=1:abort_on_error=1:print_stacktrace=1:suppressions=" SLUICE_FUZZ_UBSAN_SUPPRESSIONS;
}
