// The S3 XML reader (service/store/s3_xml.h) on arbitrary bytes: ParseListObjectsV2 and
// ParseS3Error never crash; an accepted page is consistent (truncated ⇒ a continuation token)
// and survives a round trip (written back as XML with every field escaped, it parses to the same
// page); error fields are printable ASCII within their bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/store/s3_xml.h"
#include "tests/fuzz/fuzz_check.h"

namespace qwenimage::fuzz {
namespace {

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Write(const store::ListObjectsPage& page) {
  std::string xml = "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>";
  absl::StrAppend(&xml, page.truncated ? "true" : "false", "</IsTruncated>");
  if (!page.next_continuation_token.empty()) {
    absl::StrAppend(&xml, "<NextContinuationToken>", Escape(page.next_continuation_token),
                    "</NextContinuationToken>");
  }
  for (const std::string& k : page.keys) {
    absl::StrAppend(&xml, "<Contents><Key>", Escape(k), "</Key></Contents>");
  }
  for (const std::string& p : page.common_prefixes) {
    absl::StrAppend(&xml, "<CommonPrefixes><Prefix>", Escape(p), "</Prefix></CommonPrefixes>");
  }
  return xml + "</ListBucketResult>";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string xml(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<store::ListObjectsPage> page = store::ParseListObjectsV2(xml);
  if (page.ok()) {
    FUZZ_CHECK(!page->truncated || !page->next_continuation_token.empty());
    absl::StatusOr<store::ListObjectsPage> again = store::ParseListObjectsV2(Write(*page));
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->keys == page->keys);
    FUZZ_CHECK(again->common_prefixes == page->common_prefixes);
    FUZZ_CHECK(again->truncated == page->truncated);
    FUZZ_CHECK(again->next_continuation_token == page->next_continuation_token);
  } else {
    FUZZ_CHECK(absl::IsInvalidArgument(page.status()));
  }
  const store::S3ErrorBody error = store::ParseS3Error(xml);
  FUZZ_CHECK(error.code.size() <= 64 && error.message.size() <= 200);
  for (const std::string* field : {&error.code, &error.message}) {
    for (char c : *field) FUZZ_CHECK(c >= ' ' && c <= '~');
  }
  return 0;
}

}  // namespace qwenimage::fuzz
