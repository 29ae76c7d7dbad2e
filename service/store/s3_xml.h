// The few S3 XML replies S3ImageStore reads: a ListObjectsV2 page and an error body. A minimal
// XML reader (elements, text, entities, CDATA, comments; attributes and namespaces ignored) that
// refuses what it does not understand instead of guessing; fuzzed by tests/fuzz/s3_xml_fuzzer.
#ifndef QWENIMAGE_SERVICE_STORE_S3_XML_H_
#define QWENIMAGE_SERVICE_STORE_S3_XML_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qwenimage::store {

// Bigger replies are refused: a ListObjectsV2 page of 1000 keys is about 300 KiB.
inline constexpr size_t kMaxS3XmlBytes = 8 << 20;

struct ListObjectsPage {
  std::vector<std::string> keys;             // Contents/Key, in reply order
  std::vector<std::string> common_prefixes;  // CommonPrefixes/Prefix, in reply order
  bool truncated = false;                    // IsTruncated
  std::string next_continuation_token;       // NextContinuationToken ("" if absent)
};

// INVALID_ARGUMENT if `xml` is not well-formed (as far as this reader checks), has another root
// than ListBucketResult, or is truncated without a continuation token.
absl::StatusOr<ListObjectsPage> ParseListObjectsV2(absl::string_view xml);

struct S3ErrorBody {
  std::string code;     // e.g. "NoSuchKey", "SignatureDoesNotMatch"; "" if none
  std::string message;  // the server's text, at most 200 characters
};

// Error/Code and Error/Message of an error reply; empty fields if the body is not one.
S3ErrorBody ParseS3Error(absl::string_view xml);

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_S3_XML_H_
