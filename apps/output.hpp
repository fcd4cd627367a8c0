// Output helpers shared by the tool's subcommands.
//
// Files are written whole or not at all: into PATH.partial (created anew, never through a
// link), every write checked, flushed and fsynced, then renamed over PATH. PATH itself must
// be absent or a regular file: a directory, a device (/dev/null), a FIFO or a symbolic link
// is refused rather than replaced or written through.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ext/stdio_filebuf.h>
#include <functional>
#include <iostream>
#include <ostream>
#include <string>

namespace sluice::cli {

// Empty when `path` may be (re)written: absent, or a regular file. Else why not.
inline std::string check_replaceable(const std::string& path) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? std::string() : "cannot inspect " + path + ": " + std::strerror(errno);
  }
  if (S_ISREG(st.st_mode)) return {};
  const char* kind = S_ISDIR(st.st_mode)   ? "a directory"
                     : S_ISLNK(st.st_mode) ? "a symbolic link"
                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                     : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                   : "not a regular file";
  return path + " is " + kind + ": refusing to replace it (give the path of a regular file)";
}

// Replaces `path` with what `write` puts into the stream, as described above. False, with
// the reason, when any step fails; PATH is then left as it was.
inline bool write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                                  std::string* error) {
  if (std::string why = check_replaceable(path); !why.empty()) {
    *error = std::move(why);
    return false;
  }
  const std::string partial = path + ".partial";
  if (std::string why = check_replaceable(partial); !why.empty()) {
    *error = std::move(why);
    return false;
  }
  ::unlink(partial.c_str());  // a leftover of an interrupted run
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) {
    *error = "cannot create " + partial + ": " + std::strerror(errno);
    return false;
  }
  bool ok = false;
  int failure = 0;
  {
    __gnu_cxx::stdio_filebuf<char> buffer(fd, std::ios::out | std::ios::binary);
    std::ostream out(&buffer);
    write(out);
    out.flush();
    ok = static_cast<bool>(out);
    if (!ok) failure = errno;
    if (ok && ::fsync(fd) != 0) {
      ok = false;
      failure = errno;
    }
    if (buffer.close() == nullptr && ok) {  // closes fd
      ok = false;
      failure = errno;
    }
  }
  if (!ok) {
    *error = "cannot write " + path + (failure != 0 ? std::string(": ") + std::strerror(failure) : std::string());
    ::unlink(partial.c_str());
    return false;
  }
  if (::rename(partial.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + partial + " to " + path + ": " + std::strerror(errno);
    ::unlink(partial.c_str());
    return false;
  }
  return true;
}

// Writes text to `path` (as above), or to stdout when it is empty. 0, or 2 with a message
// on stderr.
inline int write_output(const std::string& path, const std::string& text) {
  if (path.empty()) {
    std::cout << text;
    std::cout.flush();
    if (!std::cout) {
      std::cerr << "sluice: cannot write to stdout: " << std::strerror(errno) << "\n";
      return 2;
    }
    return 0;
  }
  std::string error;
  if (!write_file_atomically(path, [&](std::ostream& out) { out << text; }, &error)) {
    std::cerr << "sluice: " << error << "\n";
    return 2;
  }
  return 0;
}

}  // namespace sluice::cli
