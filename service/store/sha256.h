// Sha256Hex: the lowercase hex SHA-256 of a byte string, as carried in Image.sha256.
// Shared by the image download path, ReadImage and the store's own page-token hashing.
#ifndef QWENIMAGE_SERVICE_STORE_SHA256_H_
#define QWENIMAGE_SERVICE_STORE_SHA256_H_

#include <string>

#include "absl/strings/string_view.h"

namespace qwenimage::store {

// 64 lowercase hex characters.
std::string Sha256Hex(absl::string_view bytes);

// The raw 32-byte digest, for callers that re-encode or truncate it.
std::string Sha256Raw(absl::string_view bytes);

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_SHA256_H_
