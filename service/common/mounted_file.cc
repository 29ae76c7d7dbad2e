#include "service/common/mounted_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace qwenimage {
namespace {

absl::Status ErrnoError(int error, absl::string_view op, absl::string_view what,
                        const std::string& path) {
  return absl::Status(absl::ErrnoToStatusCode(error),
                      absl::StrCat("cannot ", op, " ", what, " ", path, ": ",
                                   std::strerror(error)));
}

}  // namespace

absl::StatusOr<std::string> ReadMountedFile(const std::string& path, absl::string_view what,
                                            size_t max_bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError(errno, "stat", what, path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, " is not a regular file"));
  }
  const auto too_large = [&] {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " is larger than ", max_bytes, " bytes"));
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) return too_large();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "open", what, path);
  std::string contents;
  char buffer[8192];
  int read_errno = 0;
  while (contents.size() <= max_bytes) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read_errno = errno;
    if (n <= 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  if (read_errno != 0) return ErrnoError(read_errno, "read", what, path);
  if (contents.size() > max_bytes) return too_large();  // it grew after the stat
  return contents;
}

}  // namespace qwenimage
