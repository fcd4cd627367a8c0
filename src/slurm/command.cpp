// run_command (see command.hpp): posix_spawnp with three pipes, one poll loop that feeds
// stdin and drains stdout and stderr together (a command that writes much while we still
// write its input cannot dead-lock us), SIGKILL at the deadline.
#include "command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include <cerrno>
#include <chrono>
#include <cstring>

extern char** environ;

namespace sluice::slurm {
namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int& f : fd)
      if (f >= 0) ::close(f);
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

// A command that exits before reading all its input must not kill us with SIGPIPE: the
// signal is blocked for the write, and one it raised is taken off this thread.
ssize_t write_without_sigpipe(int fd, const char* data, std::size_t size) {
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  const ssize_t k = ::write(fd, data, size);
  const int saved = errno;
  if (k < 0 && saved == EPIPE) {
    const timespec now{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &now) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return k;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input, const CommandLimits& limits) {
  CommandResult r;
  if (argv.empty()) {
    r.error = "no command";
    return r;
  }
  Pipe in, out, err;
  if (::pipe2(in.fd, O_CLOEXEC) != 0 || ::pipe2(out.fd, O_CLOEXEC) != 0 || ::pipe2(err.fd, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    r.error = "cannot run " + argv[0] + ": " + std::strerror(rc);
    return r;
  }
  r.started = true;
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);
  ::fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
  std::size_t written = 0;
  if (input.empty()) in.close_end(1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(limits.timeout_ms);
  char buffer[65536];
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    pollfd fds[3];
    int n = 0;
    const int in_at = in.fd[1] >= 0 ? n : -1;
    if (in.fd[1] >= 0) fds[n++] = pollfd{in.fd[1], POLLOUT, 0};
    const int out_at = out.fd[0] >= 0 ? n : -1;
    if (out.fd[0] >= 0) fds[n++] = pollfd{out.fd[0], POLLIN, 0};
    const int err_at = err.fd[0] >= 0 ? n : -1;
    if (err.fd[0] >= 0) fds[n++] = pollfd{err.fd[0], POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    if (::poll(fds, static_cast<nfds_t>(n), static_cast<int>(left.count())) < 0) {
      if (errno == EINTR) continue;
      r.error = std::string("poll: ") + std::strerror(errno);
      break;
    }
    if (in_at >= 0 && (fds[in_at].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t k = write_without_sigpipe(in.fd[1], input.data() + written, input.size() - written);
      if (k > 0) written += static_cast<std::size_t>(k);
      if (k < 0 && errno != EAGAIN && errno != EINTR) written = input.size();  // it stopped reading
      if (written == input.size()) in.close_end(1);
    }
    const auto drain = [&](int at, Pipe& p, std::string& sink) {
      if (at < 0 || (fds[at].revents & (POLLIN | POLLERR | POLLHUP)) == 0) return;
      const ssize_t k = ::read(p.fd[0], buffer, sizeof buffer);
      if (k > 0) {
        if (sink.size() + static_cast<std::size_t>(k) > limits.max_output_bytes) {
          r.error = argv[0] + " wrote more than " + std::to_string(limits.max_output_bytes) + " bytes";
          p.close_end(0);
          return;
        }
        sink.append(buffer, static_cast<std::size_t>(k));
      } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
        p.close_end(0);
      }
    };
    drain(out_at, out, r.out);
    drain(err_at, err, r.err);
    if (!r.error.empty()) break;
  }
  if (r.timed_out || !r.error.empty()) ::kill(pid, SIGKILL);
  in.close_end(1);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  if (r.timed_out) r.error = argv[0] + " did not finish within " + std::to_string(limits.timeout_ms) + " ms";
  return r;
}

}  // namespace sluice::slurm
