// ScopedSynchronous: the two pragma switches; see the header for why a pragma and when.
#include "service/store/sqlite_synchronous.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"

namespace qwenimage::store {

ScopedSynchronous::ScopedSynchronous(sqlite3* db, Durability durability) : db_(db) {
  if (durability != Durability::kSynced) return;
  if (sqlite3_exec(db_, "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    status_ =
        absl::InternalError(absl::StrCat("sqlite set synchronous = FULL: ", sqlite3_errmsg(db_)));
    return;
  }
  raised_ = true;
}

ScopedSynchronous::~ScopedSynchronous() {
  if (raised_) sqlite3_exec(db_, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr);
}

}  // namespace qwenimage::store
