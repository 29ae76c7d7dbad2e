// ScopedTestDir: a fresh, empty directory per test under gtest's TempDir, removed afterwards.
// Named after the running test and pid so parallel ctest runs never share files.
#ifndef QWENIMAGE_TESTS_UNIT_STORE_SCOPED_TEST_DIR_H_
#define QWENIMAGE_TESTS_UNIT_STORE_SCOPED_TEST_DIR_H_

#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace qwenimage::store {

class ScopedTestDir {
 public:
  ScopedTestDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("qwenimage_store_", info->test_suite_name(), "_", info->name(), "_",
                         ::getpid());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScopedTestDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScopedTestDir(const ScopedTestDir&) = delete;
  ScopedTestDir& operator=(const ScopedTestDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace qwenimage::store

#endif  // QWENIMAGE_TESTS_UNIT_STORE_SCOPED_TEST_DIR_H_
