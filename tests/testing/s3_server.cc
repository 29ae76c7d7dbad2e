#include "tests/testing/s3_server.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

#ifndef QWENIMAGE_SOURCE_DIR
#error "QWENIMAGE_SOURCE_DIR must name the repository root"
#endif

namespace qwenimage::testing {
namespace {

constexpr char kEmptySha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && absl::AsciiStrToLower(ci) == "true";
}

// The first executable `name` on $PATH, or "".
std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    if (dir.empty()) continue;
    std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string LogTail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  return s.size() <= 2000 ? s : s.substr(s.size() - 2000);
}

size_t Collect(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

void RecordSkip(const std::string& why) { GTEST_SKIP() << why; }
void RecordFailure(const std::string& why) { FAIL() << why; }

}  // namespace

absl::StatusOr<std::unique_ptr<S3Server>> S3Server::Start(bool verify_signatures) {
  const std::string node = FindOnPath("node");
  if (node.empty()) return absl::NotFoundError("node is not on PATH (install Debian's nodejs)");
  const std::string root = QWENIMAGE_SOURCE_DIR;
  const std::string cli = root + "/node_modules/s3rver/bin/s3rver.js";
  if (access(cli.c_str(), R_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat(cli, " is missing (run `npm install` in ", root, ")"));
  }
  auto server = std::unique_ptr<S3Server>(new S3Server);
  server->verify_signatures_ = verify_signatures;
  std::string templ = (std::filesystem::path(::testing::TempDir()) / "qwenimage_s3_XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  server->dir_ = templ;
  const std::string data = templ + "/data";
  const std::string log = templ + "/s3rver.log";
  // s3rver makes its ListObjectsV2 continuation tokens with DES, which Node 20's OpenSSL 3 only
  // has in the legacy provider: without it every truncated listing is a 500.
  // Both kinds run through the wrapper, which also exits once this process is gone.
  std::vector<std::string> argv = {node, "--openssl-legacy-provider",
                                   root + "/tests/testing/s3rver_sigv4.js"};
  if (!verify_signatures) argv.push_back("--no-verify");
  argv.push_back("--parent-pid");
  argv.push_back(std::to_string(getpid()));
  for (const char* arg : {"-d", data.c_str(), "-a", "127.0.0.1", "-p", "0", "--service-endpoint",
                          "localhost"}) {
    argv.emplace_back(arg);
  }
  server->process_ = std::make_unique<Subprocess>(argv, std::vector<std::string>{}, log);
  server->port_ = server->process_->WaitForNumberAfter("S3rver listening on 127.0.0.1:");
  if (server->port_ <= 0) {
    return absl::InternalError(absl::StrCat("s3rver did not start:\n", LogTail(log)));
  }
  return server;
}

S3Server::~S3Server() {
  process_.reset();  // SIGKILL: s3rver keeps nothing worth a clean shutdown
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

std::string S3Server::endpoint() const { return absl::StrCat("http://127.0.0.1:", port_); }

std::string S3Server::vhost_endpoint() const {
  return absl::StrCat("http://s3.localhost:", port_);
}

absl::StatusOr<std::string> S3Server::CreateBucket() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = absl::AsciiStrToLower(absl::StrCat(
      "t", buckets_.fetch_add(1), "-", info != nullptr ? info->name() : "bucket"));
  for (char& c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '-';
  }
  if (name.size() > 60) name.resize(60);
  while (!name.empty() && name.back() == '-') name.pop_back();
  CURL* e = curl_easy_init();
  if (e == nullptr) return absl::InternalError("curl_easy_init failed");
  const std::string url = absl::StrCat(endpoint(), "/", name);
  std::string body;
  curl_slist* headers =
      curl_slist_append(nullptr, absl::StrCat("x-amz-content-sha256: ", kEmptySha256).c_str());
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_AWS_SIGV4, absl::StrCat("aws:amz:", kRegion, ":s3").c_str());
  curl_easy_setopt(e, CURLOPT_USERNAME, kAccessKeyId);
  curl_easy_setopt(e, CURLOPT_PASSWORD, kSecretAccessKey);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(e);
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(e);
  if (code != CURLE_OK || status != 200) {
    return absl::InternalError(absl::StrCat("create bucket ", name, ": curl ", code, ", HTTP ",
                                            status, ": ", body));
  }
  return name;
}

absl::StatusOr<std::pair<long, std::string>> S3Server::AnonymousGet(const std::string& url) {
  CURL* e = curl_easy_init();
  if (e == nullptr) return absl::InternalError("curl_easy_init failed");
  std::string body;
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(e);
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(e);
  if (code != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("GET failed: ", curl_easy_strerror(code)));
  }
  return std::make_pair(status, std::move(body));
}

S3Server* SharedS3ServerOrSkip(bool verify_signatures) {
  // Destroyed at exit, which stops the servers.
  static absl::StatusOr<std::unique_ptr<S3Server>> servers[2] = {
      absl::UnknownError("not started"), absl::UnknownError("not started")};
  static bool started[2] = {false, false};
  const int i = verify_signatures ? 1 : 0;
  if (!started[i]) {
    started[i] = true;
    servers[i] = S3Server::Start(verify_signatures);
  }
  absl::StatusOr<std::unique_ptr<S3Server>>& server = servers[i];
  if (server.ok()) return server->get();
  if (absl::IsNotFound(server.status()) && !InCi()) {
    const std::string why = absl::StrCat("s3rver unavailable: ", server.status().message());
    std::cout << "SKIP: " << why << std::endl;
    RecordSkip(why);
    return nullptr;
  }
  RecordFailure(absl::StrCat("s3rver test server: ", server.status().ToString()));
  return nullptr;
}

}  // namespace qwenimage::testing
