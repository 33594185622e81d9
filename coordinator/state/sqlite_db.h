#ifndef REELFARM_COORDINATOR_STATE_SQLITE_DB_H_
#define REELFARM_COORDINATOR_STATE_SQLITE_DB_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct sqlite3;
struct sqlite3_stmt;

namespace reelfarm {

// A prepared statement. Bind parameters are 1-based, as in SQLite.
class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void BindInt(int i, int64_t v);
  void BindText(int i, absl::string_view v);
  void BindBlob(int i, absl::string_view v);
  void BindNull(int i);

  // Steps once: true with a row, false when done.
  absl::StatusOr<bool> Step();
  // Steps to the end and resets: for statements that return no rows.
  absl::Status Run();
  void Reset();

  int64_t ColumnInt(int i) const;
  std::string ColumnText(int i) const;
  std::string ColumnBlob(int i) const;
  bool ColumnIsNull(int i) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// One SQLite connection. Not thread-safe: the owner serializes calls.
class SqliteDb {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(
      const std::string& path);
  ~SqliteDb();

  absl::Status Exec(absl::string_view sql);
  absl::StatusOr<std::unique_ptr<SqliteStatement>> Prepare(
      absl::string_view sql);
  const std::string& path() const { return path_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_STATE_SQLITE_DB_H_
