# Runs libFuzzer targets one after the other (cmake -P; fuzz/CMakeLists.txt passes):
#   FUZZERS       name|executable|max_len|dictionary, comma-separated
#   SECONDS       -max_total_time of each
#   RSS_LIMIT_MB  -rss_limit_mb (libFuzzer also refuses any single malloc above it)
#   SEEDS         the seed corpora (fuzz/corpus), one folder per name
#   WORK          where the working corpora, logs and crash artifacts go
# Each fuzzer starts from a copy of its seeds (kept between runs, so a corpus grows); its
# whole output goes to WORK/logs/NAME.log. Prints one line per fuzzer (runs, exec/s,
# coverage, corpus, peak RSS) and fails at the end if any fuzzer found something.
cmake_minimum_required(VERSION 3.25)

# ASan findings and leaks end the run (libFuzzer's default); the binaries carry the UBSan
# settings themselves (sanitizer_options.cpp), so this leaves UBSAN_OPTIONS alone.
set(ENV{ASAN_OPTIONS} "abort_on_error=1:detect_leaks=1")

string(REPLACE "," ";" fuzzers "${FUZZERS}")
set(failed "")
set(summary "")
foreach(entry IN LISTS fuzzers)
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 name)
  list(GET fields 1 exe)
  list(GET fields 2 max_len)
  list(LENGTH fields n)
  set(dict "")
  if(n GREATER 3)
    list(GET fields 3 dict)
  endif()

  set(corpus ${WORK}/corpus/${name})
  set(artifacts ${WORK}/artifacts/${name})
  set(log ${WORK}/logs/${name}.log)
  file(MAKE_DIRECTORY ${corpus} ${artifacts} ${WORK}/logs)
  if(EXISTS ${SEEDS}/${name})
    file(COPY ${SEEDS}/${name}/ DESTINATION ${corpus} PATTERN "README*" EXCLUDE)
  endif()

  set(args -max_total_time=${SECONDS} -rss_limit_mb=${RSS_LIMIT_MB} -max_len=${max_len} -timeout=10
           -print_final_stats=1 -artifact_prefix=${artifacts}/)
  if(dict)
    list(APPEND args -dict=${dict})
  endif()
  message(STATUS "fuzz ${name}: ${SECONDS} s, -max_len=${max_len}, corpus ${corpus}, log ${log}")
  execute_process(COMMAND ${exe} ${args} ${corpus}
                  RESULT_VARIABLE rc OUTPUT_FILE ${log} ERROR_FILE ${log})

  # The figures of the run: libFuzzer's last status line and its final stats.
  file(STRINGS ${log} status_lines REGEX "^#[0-9]+.*cov: ")
  set(last "")
  if(status_lines)
    list(GET status_lines -1 last)
  endif()
  file(STRINGS ${log} runs REGEX "^stat::number_of_executed_units:")
  file(STRINGS ${log} speed REGEX "^stat::average_exec_per_sec:")
  file(STRINGS ${log} rss REGEX "^stat::peak_rss_mb:")
  string(REGEX REPLACE "^[^:]*::[a-z_]+: *" "" runs "${runs}")
  string(REGEX REPLACE "^[^:]*::[a-z_]+: *" "" speed "${speed}")
  string(REGEX REPLACE "^[^:]*::[a-z_]+: *" "" rss "${rss}")
  string(REGEX MATCH "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*" cov "${last}")
  set(line "${name}: runs ${runs}, ${speed} exec/s, ${cov}, peak rss ${rss} MB")
  if(NOT rc EQUAL 0)
    # What it found and the input that did it ("Test unit written to ...").
    file(STRINGS ${log} report REGEX "ERROR: |SUMMARY: |runtime error: |fuzz check failed|Test unit written")
    string(REPLACE ";" "\n  " report "${report}")
    message("fuzz ${name} FOUND SOMETHING (exit ${rc}):\n  ${report}\n  full log: ${log}")
    list(APPEND failed ${name})
    set(line "${line} -- FAILED")
  endif()
  message(STATUS "${line}")
  list(APPEND summary "${line}")
endforeach()

string(REPLACE ";" "\n  " summary "${summary}")
message(STATUS "fuzz summary:\n  ${summary}")
if(failed)
  message(FATAL_ERROR "fuzzers with findings: ${failed} (reproduce: the fuzzer binary with the artifact file as "
                      "its argument)")
endif()
