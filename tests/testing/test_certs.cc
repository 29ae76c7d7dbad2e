#include "tests/testing/test_certs.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace qwenimage::testing {
namespace {

std::string Quote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

constexpr char kNewKey[] = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

}  // namespace

TestPki::TestPki(std::string dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
}

absl::Status TestPki::Run(const std::string& command) {
  const std::string log = dir_ + "/openssl.log";
  const int rc = std::system(absl::StrCat(command, " >>", Quote(log), " 2>&1 </dev/null").c_str());
  if (rc != 0 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
    return absl::InternalError(absl::StrCat("openssl failed (", rc, "): ", command, "\n--- ", log,
                                            ":\n", ReadWholeFile(log)));
  }
  return absl::OkStatus();
}

absl::StatusOr<CertFiles> TestPki::MakeCa(const std::string& name) {
  CertFiles ca{absl::StrCat(dir_, "/", name, ".pem"), absl::StrCat(dir_, "/", name, ".key")};
  absl::Status s = Run(absl::StrCat(
      "openssl req -x509 ", kNewKey, " -days 2 -subj ", Quote("/CN=" + name), " -keyout ",
      Quote(ca.key), " -out ", Quote(ca.cert),
      " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"));
  if (!s.ok()) return s;
  return ca;
}

absl::StatusOr<CertFiles> TestPki::MakeLeaf(const CertFiles& ca, const std::string& name,
                                            const std::string& extensions) {
  CertFiles leaf{absl::StrCat(dir_, "/", name, ".pem"), absl::StrCat(dir_, "/", name, ".key")};
  const std::string csr = absl::StrCat(dir_, "/", name, ".csr");
  const std::string ext = absl::StrCat(dir_, "/", name, ".ext");
  {
    std::ofstream out(ext);
    out << "basicConstraints=critical,CA:FALSE\n"
        << "keyUsage=critical,digitalSignature\n"
        << extensions;
    if (!out) return absl::InternalError("cannot write " + ext);
  }
  if (absl::Status s = Run(absl::StrCat("openssl req ", kNewKey, " -subj ", Quote("/CN=" + name),
                                        " -keyout ", Quote(leaf.key), " -out ", Quote(csr)));
      !s.ok()) {
    return s;
  }
  std::random_device random;
  const uint64_t serial = (uint64_t{random()} << 32 | random()) >> 1;
  if (absl::Status s =
          Run(absl::StrCat("openssl x509 -req -days 2 -in ", Quote(csr), " -CA ", Quote(ca.cert),
                           " -CAkey ", Quote(ca.key), " -set_serial ", serial, " -extfile ",
                           Quote(ext), " -out ", Quote(leaf.cert)));
      !s.ok()) {
    return s;
  }
  return leaf;
}

absl::StatusOr<CertFiles> TestPki::MakeServerCert(const CertFiles& ca, const std::string& name) {
  return MakeLeaf(ca, name,
                  "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
}

absl::StatusOr<CertFiles> TestPki::MakeClientCert(const CertFiles& ca, const std::string& name,
                                                  const std::string& uri_san) {
  return MakeLeaf(ca, name,
                  absl::StrCat("extendedKeyUsage=clientAuth\nsubjectAltName=URI:", uri_san, "\n"));
}

bool OpensslAvailable() { return std::system("openssl version >/dev/null 2>&1") == 0; }

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

absl::Status ReplaceFile(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".new";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << contents;
    if (!out) return absl::InternalError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("rename ", tmp, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace qwenimage::testing
