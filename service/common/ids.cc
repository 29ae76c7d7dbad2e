#include "service/common/ids.h"

#include <openssl/rand.h>

#include <cstdint>
#include <cstdlib>

namespace qwenimage {

std::string NewTaskId() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  uint8_t bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();  // no entropy: refuse to run
  std::string id;
  id.reserve(26);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      id.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) id.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return id;
}

}  // namespace qwenimage
