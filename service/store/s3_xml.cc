#include "service/store/s3_xml.h"

#include <cstdint>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace qwenimage::store {
namespace {

constexpr int kMaxDepth = 16;

absl::Status Malformed(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("malformed S3 XML reply: ", why));
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Appends `text` with its entity references resolved.
absl::Status AppendUnescaped(absl::string_view text, std::string* out) {
  while (!text.empty()) {
    const size_t amp = text.find('&');
    absl::StrAppend(out, text.substr(0, amp));
    if (amp == absl::string_view::npos) break;
    text.remove_prefix(amp + 1);
    const size_t semi = text.find(';');
    if (semi == absl::string_view::npos || semi > 10) return Malformed("bad entity reference");
    const absl::string_view name = text.substr(0, semi);
    text.remove_prefix(semi + 1);
    if (name == "amp") {
      out->push_back('&');
    } else if (name == "lt") {
      out->push_back('<');
    } else if (name == "gt") {
      out->push_back('>');
    } else if (name == "quot") {
      out->push_back('"');
    } else if (name == "apos") {
      out->push_back('\'');
    } else if (absl::StartsWith(name, "#")) {
      uint32_t cp = 0;
      const bool hex = absl::StartsWith(name, "#x");
      const absl::string_view digits = name.substr(hex ? 2 : 1);
      const bool ok = !digits.empty() &&
                      (hex ? absl::SimpleHexAtoi(digits, &cp) : absl::SimpleAtoi(digits, &cp));
      if (!ok || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return Malformed("bad character reference");
      }
      AppendUtf8(cp, out);
    } else {
      return Malformed("unknown entity");
    }
  }
  return absl::OkStatus();
}

// Walks the elements of `xml`; calls `on_text(path, text)` for every element whose content is
// text only (no child elements), with path like "ListBucketResult/Contents/Key".
absl::Status WalkXml(absl::string_view xml,
                     absl::FunctionRef<void(absl::string_view path, std::string text)> on_text) {
  if (xml.size() > kMaxS3XmlBytes) return Malformed("too large");
  std::vector<std::string> stack;
  std::string text;         // the current element's text so far
  bool has_child = false;   // the current element has child elements
  bool seen_root = false;
  size_t i = 0;
  while (i < xml.size()) {
    if (xml[i] != '<') {
      const size_t next = xml.find('<', i);
      const absl::string_view chunk =
          xml.substr(i, next == absl::string_view::npos ? absl::string_view::npos : next - i);
      if (stack.empty()) {
        if (!absl::StripAsciiWhitespace(chunk).empty()) return Malformed("text outside the root");
      } else if (absl::Status s = AppendUnescaped(chunk, &text); !s.ok()) {
        return s;
      }
      if (next == absl::string_view::npos) break;
      i = next;
      continue;
    }
    const absl::string_view rest = xml.substr(i);
    if (absl::StartsWith(rest, "<?")) {
      const size_t end = rest.find("?>");
      if (end == absl::string_view::npos) return Malformed("unterminated declaration");
      i += end + 2;
      continue;
    }
    if (absl::StartsWith(rest, "<!--")) {
      const size_t end = rest.find("-->", 4);
      if (end == absl::string_view::npos) return Malformed("unterminated comment");
      i += end + 3;
      continue;
    }
    if (absl::StartsWith(rest, "<![CDATA[")) {
      const size_t end = rest.find("]]>", 9);
      if (end == absl::string_view::npos) return Malformed("unterminated CDATA");
      if (stack.empty()) return Malformed("CDATA outside the root");
      absl::StrAppend(&text, rest.substr(9, end - 9));
      i += end + 3;
      continue;
    }
    if (absl::StartsWith(rest, "<!")) return Malformed("DOCTYPE is not accepted");
    const size_t close = rest.find('>');
    if (close == absl::string_view::npos) return Malformed("unterminated tag");
    absl::string_view tag = rest.substr(1, close - 1);
    i += close + 1;
    const bool end_tag = absl::ConsumePrefix(&tag, "/");
    const bool self_closing = !end_tag && absl::ConsumeSuffix(&tag, "/");
    size_t name_end = 0;
    while (name_end < tag.size() && !absl::ascii_isspace(static_cast<unsigned char>(tag[name_end]))) {
      ++name_end;
    }
    const absl::string_view name = tag.substr(0, name_end);
    if (name.empty()) return Malformed("empty tag name");
    for (char c : name) {
      if (c == '<' || c == '&' || c == '"' || c == '\'' || c == '=' || c == '/') {
        return Malformed("bad tag name");
      }
    }
    if (end_tag) {
      if (stack.empty() || stack.back() != name) return Malformed("mismatched end tag");
      if (!absl::StripAsciiWhitespace(tag.substr(name_end)).empty()) {
        return Malformed("junk in end tag");
      }
      if (!has_child) on_text(absl::StrJoin(stack, "/"), std::move(text));
      text.clear();
      stack.pop_back();
      has_child = true;  // the parent has a child now
      continue;
    }
    if (stack.empty() && seen_root) return Malformed("more than one root element");
    if (stack.size() >= kMaxDepth) return Malformed("nested too deep");
    seen_root = true;
    text.clear();
    stack.emplace_back(name);
    has_child = false;
    if (self_closing) {
      on_text(absl::StrJoin(stack, "/"), "");
      stack.pop_back();
      has_child = true;
    }
  }
  if (!stack.empty()) return Malformed("unterminated element");
  if (!seen_root) return Malformed("no root element");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ListObjectsPage> ParseListObjectsV2(absl::string_view xml) {
  ListObjectsPage page;
  std::string root;
  std::string truncated;
  absl::Status status = WalkXml(xml, [&](absl::string_view path, std::string text) {
    const size_t slash = path.find('/');
    if (root.empty()) root = std::string(path.substr(0, slash));
    if (path == "ListBucketResult/Contents/Key") {
      page.keys.push_back(std::move(text));
    } else if (path == "ListBucketResult/CommonPrefixes/Prefix") {
      page.common_prefixes.push_back(std::move(text));
    } else if (path == "ListBucketResult/IsTruncated") {
      truncated = std::move(text);
    } else if (path == "ListBucketResult/NextContinuationToken") {
      page.next_continuation_token = std::move(text);
    }
  });
  if (!status.ok()) return status;
  if (root != "ListBucketResult") return Malformed("not a ListBucketResult");
  truncated = std::string(absl::StripAsciiWhitespace(truncated));
  if (truncated == "true") {
    page.truncated = true;
  } else if (!truncated.empty() && truncated != "false") {
    return Malformed("IsTruncated is neither true nor false");
  }
  if (page.truncated && page.next_continuation_token.empty()) {
    return Malformed("truncated page without NextContinuationToken");
  }
  return page;
}

S3ErrorBody ParseS3Error(absl::string_view xml) {
  S3ErrorBody error;
  absl::Status status = WalkXml(xml, [&](absl::string_view path, std::string text) {
    if (path == "Error/Code") error.code = std::move(text);
    if (path == "Error/Message") error.message = std::move(text);
  });
  if (!status.ok()) return S3ErrorBody{};
  // Only printable ASCII of a sane length reaches our messages.
  for (std::string* field : {&error.code, &error.message}) {
    for (char& c : *field) {
      if (c < ' ' || c > '~') c = '?';
    }
  }
  if (error.code.size() > 64) error.code.resize(64);
  if (error.message.size() > 200) error.message.resize(200);
  return error;
}

}  // namespace qwenimage::store
