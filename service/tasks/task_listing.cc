#include "service/tasks/task_listing.h"

#include <utility>

#include "service/common/field_error.h"
#include "service/store/page_token.h"
#include "service/tasks/convert.h"

namespace qwenimage::tasks {
namespace {

store::ListQuery Filters(const ListRequest& request) {
  store::ListQuery query;
  query.tenant = request.tenant;
  query.states = request.states;
  query.model = request.model;
  query.created_at_or_after = request.created_at_or_after;
  query.created_before = request.created_before;
  return query;
}

}  // namespace

absl::StatusOr<store::ListQuery> ToStoreQuery(const ListRequest& request) {
  store::ListQuery query = Filters(request);
  query.limit = request.page_size + 1;
  if (!request.page_token.empty()) {
    // The store's tested fingerprint: independent of the order of `states`, and it tells
    // create_time_after=T from create_time_before=T.
    absl::StatusOr<store::ListCursor> cursor =
        store::DecodePageToken(request.page_token, store::ListFilterFingerprint(query));
    if (!cursor.ok()) return FieldError("page_token", cursor.status().message());
    query.after = *std::move(cursor);
  }
  return query;
}

std::string NextPageToken(const ListRequest& request, const v1::Task& last) {
  return store::EncodePageToken(store::ListCursor{FromProto(last.create_time()), last.id()},
                                store::ListFilterFingerprint(Filters(request)));
}

}  // namespace qwenimage::tasks
