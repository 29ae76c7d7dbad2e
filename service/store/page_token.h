// Page tokens for ListTasks: an opaque, URL-safe encoding of a ListCursor bound to the filter that
// produced it, so a token replayed with different filters is rejected instead of skipping rows.
#ifndef QWENIMAGE_SERVICE_STORE_PAGE_TOKEN_H_
#define QWENIMAGE_SERVICE_STORE_PAGE_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/store/task_store.h"

namespace qwenimage::store {

// `filter_fingerprint` is any string that identifies the filters (not the page size, which AIP-158
// lets a caller change between pages); ListFilterFingerprint builds one from a ListQuery.
std::string EncodePageToken(const ListCursor& cursor, absl::string_view filter_fingerprint);

// INVALID_ARGUMENT if the token is malformed or was issued for another filter.
absl::StatusOr<ListCursor> DecodePageToken(absl::string_view token,
                                           absl::string_view filter_fingerprint);

// A canonical string of the query's tenant, states, model and time bounds; ignores `after` and
// `limit`. States are order- and duplicate-insensitive.
std::string ListFilterFingerprint(const ListQuery& query);

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_PAGE_TOKEN_H_
