// Random identifiers: unguessable, URL-safe task ids (128 bits from the OS CSPRNG).
#ifndef QWENIMAGE_SERVICE_COMMON_IDS_H_
#define QWENIMAGE_SERVICE_COMMON_IDS_H_

#include <string>

namespace qwenimage {

// 26 characters of lowercase base32 (RFC 4648 alphabet): 128 random bits, no padding.
std::string NewTaskId();

}  // namespace qwenimage

#endif  // QWENIMAGE_SERVICE_COMMON_IDS_H_
