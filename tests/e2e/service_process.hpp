// The real `sluice serve` as a child process, for end-to-end tests: started on a free
// loopback port, found through its --ready-file, stopped with a signal.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace sluice::test {

// A field of /proc/PID/status given in kB ("VmRSS:" resident now, "VmHWM:" its peak), in
// bytes; 0 when unreadable.
inline std::int64_t proc_status_bytes(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoll(line.substr(std::strlen(field))) * 1024;
  }
  return 0;
}

class ServiceProcess {
 public:
  // Extra arguments go after `serve --endpoint tcp://127.0.0.1:* --ready-file ...`.
  // `max_open_files` > 0: the child's open-file limit, soft and hard (ulimit -n).
  explicit ServiceProcess(std::vector<std::string> extra = {}, rlim_t max_open_files = 0) {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    const std::string ready = (dir_ / "ready").string();
    std::vector<std::string> args{SLUICE_BIN, "serve", "--ready-file", ready};
    if (std::find(extra.begin(), extra.end(), "--endpoint") == extra.end()) {
      args.insert(args.end(), {"--endpoint", "tcp://127.0.0.1:*"});
    }
    if (std::find(extra.begin(), extra.end(), "--log-level") == extra.end()) {
      args.insert(args.end(), {"--log-level", "warn"});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    const std::string log = (dir_ / "serve.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      if (max_open_files > 0) {
        const rlimit limit{max_open_files, max_open_files};
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) std::_Exit(126);
      }
      if (std::FILE* f = std::freopen(log.c_str(), "w", stderr)) (void)f;
      if (std::FILE* f = std::freopen("/dev/null", "w", stdout)) (void)f;
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < until) {
      std::ifstream in(ready);
      if (in && std::getline(in, endpoint_) && !endpoint_.empty()) {
        std::getline(in, metrics_);
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  ~ServiceProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  [[nodiscard]] bool running() const { return pid_ > 0; }
  [[nodiscard]] const std::string& endpoint() const { return endpoint_; }
  [[nodiscard]] const std::string& metrics() const { return metrics_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] std::string log() const {
    std::ifstream in(dir_ / "serve.log");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  // Waits for the process to exit; its exit code, or -1 (timeout), or 128 + signal.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  // Resident memory of the service, from /proc (KiB); -1 if unknown.
  [[nodiscard]] long rss_kib() const {  // -1 when unreadable
    const std::int64_t bytes = proc_status_bytes(pid_, "VmRSS:");
    return bytes > 0 ? static_cast<long>(bytes / 1024) : -1;
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::string endpoint_;
  std::string metrics_;
};

}  // namespace sluice::test
