#include "service/store/s3_credentials.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace qwenimage::store {
namespace {

// Characters an access key id or secret may hold: printable ASCII without spaces. Anything else
// (a stray quote is printable and allowed; a tab or a NUL is not) is a broken file.
bool IsPrintableToken(absl::string_view value) {
  for (char c : value) {
    if (c <= ' ' || c > '~') return false;
  }
  return !value.empty();
}

}  // namespace

absl::StatusOr<S3Credentials> ParseS3Credentials(absl::string_view text) {
  S3Credentials out;
  bool have_id = false, have_secret = false;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "S3 credentials file, line ", line_number, ": expected name=value"));
    }
    const absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, eq));
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(eq + 1));
    std::string* field;
    bool* seen;
    if (name == "access_key_id") {
      field = &out.access_key_id;
      seen = &have_id;
    } else if (name == "secret_access_key") {
      field = &out.secret_access_key;
      seen = &have_secret;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "S3 credentials file, line ", line_number,
          ": unknown name (expected access_key_id or secret_access_key)"));
    }
    if (*seen) {
      return absl::InvalidArgumentError(
          absl::StrCat("S3 credentials file, line ", line_number, ": ", name, " given twice"));
    }
    if (!IsPrintableToken(value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "S3 credentials file, line ", line_number, ": ", name,
          " must be non-empty printable ASCII without spaces"));
    }
    *field = std::string(value);
    *seen = true;
  }
  if (!have_id || !have_secret) {
    return absl::InvalidArgumentError(
        "S3 credentials file: both access_key_id= and secret_access_key= are required");
  }
  return out;
}

absl::StatusOr<S3Credentials> ReadS3CredentialsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read --s3_credentials_file ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseS3Credentials(text.str());
}

}  // namespace qwenimage::store
