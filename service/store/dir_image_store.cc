// DirImageStore on POSIX calls: std::filesystem cannot fsync, and durability of a finished
// image is the point of keeping it past DashScope's 24 h expiry.
#include "service/store/dir_image_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "service/store/image_key.h"

namespace qwenimage::store {
namespace {


// "<index>.png" as Put names a finished image; its temp files start with a dot.
bool IsImageFileName(absl::string_view name) {
  if (!absl::ConsumeSuffix(&name, ".png") || name.empty()) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

// Whether `dir` holds a finished image. A directory removed meanwhile (a concurrent DeleteTask)
// holds none; that is not an error.
absl::StatusOr<bool> HasImage(const std::filesystem::path& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (IsImageFileName(it->path().filename().string())) return true;
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::InternalError(absl::StrCat("list ", dir.string(), ": ", ec.message()));
  }
  return false;
}

absl::Status ErrnoError(absl::string_view what, const std::string& path, int err) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(err)));
}

// Closes the descriptor on every path out of Put.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Returns close()'s result: on some file systems a failed write is reported only here.
  int Close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

absl::Status WriteAll(int fd, absl::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Reads through a descriptor opened by DirImageStore::Open.
class FileImageReader final : public ImageReader {
 public:
  FileImageReader(int fd, int64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  int64_t size() const override { return size_; }
  absl::StatusOr<std::string> Read(size_t max_bytes) override {
    std::string bytes(max_bytes, '\0');
    for (;;) {
      const ssize_t n = ::read(fd_.get(), bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("read", path_, errno);
      }
      bytes.resize(static_cast<size_t>(n));
      return bytes;
    }
  }

 private:
  Fd fd_;
  const int64_t size_;
  const std::string path_;
};

// Persists a rename: the new directory entry is only durable once the directory is synced.
absl::Status SyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError("open", dir, errno);
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync", dir, errno);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirImageStore>> DirImageStore::Open(const std::string& root) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", root, ": ", ec.message()));
  return std::unique_ptr<DirImageStore>(new DirImageStore(root));
}

absl::Status DirImageStore::Put(absl::string_view task_id, int index, absl::string_view bytes) {
  if (absl::Status s = ValidateImageKey(task_id, index); !s.ok()) return s;
  const std::string dir = absl::StrCat(root_, "/", task_id);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoError("mkdir", dir, errno);
  const std::string path = absl::StrCat(dir, "/", index, ".png");
  // A leading dot keeps temp files out of the "<index>.png" names readers open.
  const std::string temp =
      absl::StrCat(dir, "/.", index, ".png.", ::getpid(), ".", next_temp_.fetch_add(1), ".tmp");
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return ErrnoError("create", temp, errno);
  absl::Status status = WriteAll(fd.get(), bytes, temp);
  if (status.ok() && ::fsync(fd.get()) != 0) status = ErrnoError("fsync", temp, errno);
  if (status.ok() && fd.Close() != 0) status = ErrnoError("close", temp, errno);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("rename", temp, errno);
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return SyncDir(dir);
}

absl::StatusOr<std::string> DirImageStore::Get(absl::string_view task_id, int index) {
  absl::StatusOr<std::unique_ptr<ImageReader>> reader = Open(task_id, index);
  if (!reader.ok()) return reader.status();
  std::string bytes;
  bytes.reserve(static_cast<size_t>((*reader)->size()));
  for (;;) {
    absl::StatusOr<std::string> piece = (*reader)->Read(256 * 1024);
    if (!piece.ok()) return piece.status();
    if (piece->empty()) return bytes;
    bytes += *piece;
  }
}

absl::StatusOr<std::unique_ptr<ImageReader>> DirImageStore::Open(absl::string_view task_id,
                                                                 int index) {
  if (absl::Status s = ValidateImageKey(task_id, index); !s.ok()) return s;
  std::string path = absl::StrCat(root_, "/", task_id, "/", index, ".png");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("image ", index, " of task ", task_id));
    }
    return ErrnoError("open", path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoError("stat", path, err);
  }
  return std::make_unique<FileImageReader>(fd, static_cast<int64_t>(st.st_size),
                                           std::move(path));
}

absl::Status DirImageStore::DeleteTask(absl::string_view task_id) {
  if (absl::Status s = ValidateImageTaskId(task_id); !s.ok()) return s;
  const std::string dir = absl::StrCat(root_, "/", task_id);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("remove ", dir, ": ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> DirImageStore::ListTaskIds() {
  namespace fs = std::filesystem;
  std::vector<std::string> ids;
  std::error_code ec;
  for (fs::directory_iterator it(root_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code stat_ec;
    // symlink_status: Put makes real directories; a link is nothing this store wrote.
    if (!ValidateImageTaskId(name).ok() || !fs::is_directory(it->symlink_status(stat_ec))) continue;
    absl::StatusOr<bool> has_image = HasImage(it->path());
    if (!has_image.ok()) return has_image.status();
    if (*has_image) ids.push_back(name);
  }
  if (ec) return absl::InternalError(absl::StrCat("list ", root_, ": ", ec.message()));
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace qwenimage::store
