// The host-wide daily quota ledger: one small SQLite file shared by every worker process of the host.
//
// The file is the ledger alone, apart from the metadata cache: the cache can be refetched, the count of units
// already spent today cannot. It is written with synchronous=FULL, and it never checkpoints in the PASSIVE mode
// that SQLite 3.40's WAL-reset bug needs (see quota_ledger.cpp).
//
// Days are Los Angeles calendar days, because that is when Google resets the quota. A day's row is never
// deleted: the history costs a few bytes a day and no clean-up can then lose today's count.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace vault_metadata {

struct QuotaStatus {
    int64_t limit = 0;
    int64_t used = 0;
    int64_t remaining = 0;  // 0 when exhausted, and when !ok (the conservative reading)
    int64_t resets_at = 0;  // next midnight America/Los_Angeles, Unix seconds
    bool exhausted = false; // marked by an upstream quotaExceeded, or used >= limit
    bool ok = false;        // false when the ledger could not be read
};

// Thread-safe: one connection and its statements behind a mutex, so the PHP thread may ask status() while the
// loop thread reserves. Not fork-safe by itself: see abandon_after_fork().
class QuotaLedger {
public:
    // Opens (creating when absent) the ledger at `path`. Any number of processes may open the same path at the
    // same moment. On failure returns nullptr and, when `error` is not null, says why.
    static std::unique_ptr<QuotaLedger> open(const std::string& path, std::string* error);

    ~QuotaLedger();
    QuotaLedger(const QuotaLedger&) = delete;
    QuotaLedger& operator=(const QuotaLedger&) = delete;

    // Atomically grants min(units, daily_limit - used) for the Los Angeles day of `now` (0 once the day is marked
    // exhausted) and counts the grant as used. Returns the units granted, 0 when `units` or `daily_limit` is not
    // positive, or -1 on a database error: the caller must then send nothing.
    int64_t reserve(int64_t units, int64_t daily_limit, int64_t now);

    // Gives back units reserved at `reserved_at` that were not spent; `used` never goes below 0. When the Los
    // Angeles day of `now` is no longer the day of `reserved_at` the refund is dropped: the old day is over and
    // the new day never counted those units. Returns false only on a database error.
    bool refund(int64_t units, int64_t reserved_at, int64_t now);

    // refund(units, now, now): gives back to the day of `now`. Use it only when the reservation is known to belong
    // to that day; the three-argument form is the one that cannot credit a new day with yesterday's units.
    bool refund(int64_t units, int64_t now);

    // Upstream said 403 quotaExceeded: the day of `now` grants nothing more until Los Angeles midnight, whatever
    // `used` says. Returns false on a database error.
    bool mark_exhausted(int64_t now);

    QuotaStatus status(int64_t daily_limit, int64_t now);

    // For a child process after fork(): forgets the inherited connection and statements without finalizing or
    // closing them (they are leaked on purpose). Closing an inherited connection could checkpoint or delete the
    // WAL that the parent still uses, and the inherited mutex may be held by a thread that does not exist in the
    // child. Call it in the child before any other thread exists there; afterwards every call fails (-1, false,
    // ok == false) and the destructor does nothing. The destructor and every method also detect on their own
    // that they run in another process than the one that opened the ledger, and behave the same way.
    // A child that needs a ledger opens its own.
    void abandon_after_fork() noexcept;

    // Closes the connection; the next use opens it again. Called before fork() so that the
    // child inherits no SQLite state of this file (SQLite shares per-file lock state among
    // all connections of a process, and the child's would believe the parent's locks held).
    void close_connection() noexcept;

    // Why the last failing call failed (SQLite's message), for logs.
    std::string last_error() const;

    const std::string& path() const noexcept { return path_; }

private:
    QuotaLedger(std::string path, sqlite3* db);

    bool usable() const noexcept;
    bool connected();  // under mutex_: opens the connection again after close_connection()
    bool prepare_statements();
    bool begin_immediate();
    bool commit();
    void rollback_quietly();
    bool read_day(const std::string& day, int64_t* used, bool* exhausted);
    bool write_day(sqlite3_stmt* stmt, const std::string& day, int64_t value, int64_t now);
    void checkpoint_if_due();
    void fail(const char* what);
    void release() noexcept;

    static int on_wal_commit(void* self, sqlite3* db, const char* schema, int frames);

    mutable std::mutex mutex_;
    std::atomic<bool> abandoned_{false};
    const pid_t owner_pid_;
    const std::string path_;
    sqlite3* db_ = nullptr;
    sqlite3_stmt* begin_ = nullptr;
    sqlite3_stmt* commit_ = nullptr;
    sqlite3_stmt* rollback_ = nullptr;
    sqlite3_stmt* select_day_ = nullptr;
    sqlite3_stmt* add_used_ = nullptr;
    sqlite3_stmt* subtract_used_ = nullptr;
    sqlite3_stmt* set_exhausted_ = nullptr;
    int wal_frames_ = 0;
    std::string last_error_;
};

}  // namespace vault_metadata
