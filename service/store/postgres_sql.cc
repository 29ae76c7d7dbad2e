#include "service/store/postgres_sql.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace qwenimage::store::pg {
namespace {

// Type OIDs from pg_type.h (stable across releases).
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kInt4ArrayOid = 1007;

std::string BigEndian(uint64_t v, int bytes) {
  std::string out(bytes, '\0');
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

bool ConnectionLostState(absl::string_view sqlstate) {
  // Class 08: connection exception; 57P01..57P03: the server is shutting down or terminated the
  // backend (pg_terminate_backend), or is not accepting connections yet.
  return absl::StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

}  // namespace

int64_t ToMicros(const google::protobuf::Timestamp& ts) {
  return absl::ToUnixMicros(absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos()));
}

Params& Params::Text(absl::string_view v) { return Add(std::string(v), kTextOid, 1); }
Params& Params::Bytes(absl::string_view v) { return Add(std::string(v), kByteaOid, 1); }
Params& Params::Int4(int32_t v) {
  return Add(BigEndian(static_cast<uint32_t>(v), 4), kInt4Oid, 1);
}
Params& Params::Int8(int64_t v) {
  return Add(BigEndian(static_cast<uint64_t>(v), 8), kInt8Oid, 1);
}
Params& Params::Int4Array(const std::set<int>& v) {
  return Add(absl::StrCat("{", absl::StrJoin(v, ","), "}"), kInt4ArrayOid, 0);
}
Params& Params::Add(std::string value, Oid type, int format) {
  values_.push_back(std::move(value));
  types_.push_back(type);
  formats_.push_back(format);
  return *this;
}

std::string Trimmed(const char* message) {
  return message == nullptr ? "" : std::string(absl::StripAsciiWhitespace(message));
}

absl::Status StatementError(Connection& c, const PGresult* r, absl::string_view what,
                            std::string* constraint) {
  const std::string sqlstate = r ? Trimmed(PQresultErrorField(r, PG_DIAG_SQLSTATE)) : "";
  std::string message = r ? Trimmed(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)) : "";
  if (message.empty()) message = Trimmed(PQerrorMessage(c.get()));
  message = absl::StrCat("postgres ", what, ": ", message,
                         sqlstate.empty() ? "" : absl::StrCat(" (SQLSTATE ", sqlstate, ")"));
  if (PQstatus(c.get()) != CONNECTION_OK || ConnectionLostState(sqlstate)) {
    c.MarkBroken();
    return absl::UnavailableError(message);
  }
  if (sqlstate == "23505") {
    if (constraint != nullptr) {
      *constraint = Trimmed(PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME));
    }
    return absl::AlreadyExistsError(message);
  }
  // statement_timeout: the statement was cancelled and rolled back.
  if (sqlstate == "57014") return absl::DeadlineExceededError(message);
  // Serialization failure, deadlock, lock not available, too many connections: transient.
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "53300") {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

absl::StatusOr<Result> Exec(Connection& c, const char* sql, const Params& params,
                            absl::string_view what, std::string* constraint) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  for (const std::string& v : params.values()) {
    values.push_back(v.c_str());
    lengths.push_back(static_cast<int>(v.size()));
  }
  Result r(PQexecParams(c.get(), sql, params.size(), params.types().data(), values.data(),
                        lengths.data(), params.formats().data(), /*resultFormat=*/1));
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  return StatementError(c, r.get(), what, constraint);
}

absl::Status ExecScript(Connection& c, const std::string& sql, absl::string_view what) {
  Result r(PQexec(c.get(), sql.c_str()));
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return absl::OkStatus();
  return StatementError(c, r.get(), what, nullptr);
}

int64_t RowsAffected(const PGresult* r) {
  int64_t n = 0;
  return absl::SimpleAtoi(PQcmdTuples(const_cast<PGresult*>(r)), &n) ? n : 0;
}

absl::string_view Value(const PGresult* r, int row, int col) {
  return absl::string_view(PQgetvalue(r, row, col), PQgetlength(r, row, col));
}

int64_t BinaryInt(const PGresult* r, int row, int col) {
  uint64_t v = 0;
  for (char ch : Value(r, row, col)) v = (v << 8) | static_cast<unsigned char>(ch);
  // Sign-extend a 4-byte int4 (a 1-byte bool is 0 or 1 as it is).
  if (PQgetlength(r, row, col) == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

absl::StatusOr<std::vector<TaskRecord>> ReadRecords(const PGresult* r) {
  std::vector<TaskRecord> rows;
  const int n = PQntuples(r);
  rows.reserve(n);
  for (int i = 0; i < n; ++i) {
    TaskRecord& row = rows.emplace_back();
    row.tenant = std::string(Value(r, i, 0));
    row.fingerprint = std::string(Value(r, i, 1));
    const absl::string_view blob = Value(r, i, 2);
    if (!row.task.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
      return absl::InternalError("stored task does not parse as qwenimage.v1.Task");
    }
    row.cancel_requested = BinaryInt(r, i, 3) != 0;
  }
  return rows;
}

std::function<absl::Status(Connection&, bool)> SelectAll(const std::string& sql,
                                                         const Params& params, const char* what,
                                                         std::vector<TaskRecord>* rows) {
  return [&sql, &params, what, rows](Connection& c, bool) -> absl::Status {
    absl::StatusOr<Result> r = Exec(c, sql.c_str(), params, what);
    if (!r.ok()) return r.status();
    absl::StatusOr<std::vector<TaskRecord>> read = ReadRecords(r->get());
    if (!read.ok()) return read.status();
    *rows = *std::move(read);
    return absl::OkStatus();
  };
}

absl::StatusOr<std::optional<TaskRecord>> SelectOne(Connection& c, const std::string& sql,
                                                    const Params& params) {
  absl::StatusOr<Result> r = Exec(c, sql.c_str(), params, "select");
  if (!r.ok()) return r.status();
  absl::StatusOr<std::vector<TaskRecord>> rows = ReadRecords(r->get());
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::nullopt;
  return std::move(rows->front());
}

}  // namespace qwenimage::store::pg
