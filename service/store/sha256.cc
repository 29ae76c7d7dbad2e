// Sha256Hex on OpenSSL's EVP interface (the low-level SHA256_* calls are deprecated in 3.0).
// One-shot hashing only: images are held in memory whole anyway.
#include "service/store/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "absl/strings/escaping.h"

namespace qwenimage::store {

std::string Sha256Raw(absl::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // EVP_Digest fails only on allocation failure; there is no meaningful recovery from that.
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string Sha256Hex(absl::string_view bytes) { return absl::BytesToHexString(Sha256Raw(bytes)); }

}  // namespace qwenimage::store
