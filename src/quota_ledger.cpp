#include "quota_ledger.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <utility>

#include "pacific_time.h"
#include "sqlite_busy.h"

// Why the ledger never runs a PASSIVE checkpoint: SQLite 3.40 carries the WAL-reset bug (fixed in 3.51.3). It
// needs a checkpoint that runs without the writer lock while another connection commits and restarts the WAL;
// the checkpoint then records frames as copied that were not, and the database is corrupt. Automatic
// checkpoints are PASSIVE, so they are switched off (our WAL hook replaces SQLite's default one) and the ledger
// runs RESTART checkpoints itself: those take the writer lock first and hold it throughout, so no commit can
// race them. The lock is awaited through the busy timeout; only if a writer keeps it for longer does SQLite fall
// back to a passive pass, a residual risk that needs a transaction stuck for 5 s. mmap stays off, because it turns
// a WAL inconsistency into structural damage.

namespace vault_metadata {
namespace {

constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 5000;
// Opening retries SQLITE_BUSY that the busy handler does not cover (journal-mode switch and migration while
// many processes start at once) for this long.
constexpr auto kOpenRetryBudget = std::chrono::milliseconds(10000);
// A ledger transaction writes one or two pages, so this keeps the WAL near 1 MiB.
constexpr int kCheckpointFrames = 256;

// WITHOUT ROWID: the table is its primary key's b-tree, so a reservation dirties one page.
constexpr const char* kSchemaV1 =
    "CREATE TABLE IF NOT EXISTS quota_days ("
    " day TEXT PRIMARY KEY NOT NULL,"  // Los Angeles calendar day, YYYY-MM-DD
    " used INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),"
    " exhausted INTEGER NOT NULL DEFAULT 0 CHECK (exhausted IN (0, 1)),"
    " updated_at INTEGER NOT NULL"
    ") WITHOUT ROWID";

bool is_busy(int rc) { return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED; }

template <class F>
int retry_while_busy(F&& attempt) {
    const auto deadline = std::chrono::steady_clock::now() + kOpenRetryBudget;
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
        const int rc = attempt();
        if (!is_busy(rc) || std::chrono::steady_clock::now() >= deadline) return rc;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

std::string describe(sqlite3* db, const char* what) {
    return std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory");
}

// Runs one statement and hands back the first column of its first row (empty when there is none).
int query_text(sqlite3* db, const char* sql, std::string* first) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return rc;
    first->clear();
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        if (const unsigned char* text = sqlite3_column_text(stmt, 0)) first->assign(reinterpret_cast<const char*>(text));
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        }
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

bool configure(sqlite3* db, std::string* why) {
    std::string mode;
    int rc = retry_while_busy([&] { return query_text(db, "PRAGMA journal_mode=WAL", &mode); });
    if (rc != SQLITE_OK) {
        *why = describe(db, "cannot switch the quota ledger to WAL");
        return false;
    }
    if (mode != "wal") {
        *why = "the quota ledger stays in journal mode '" + mode + "', WAL is required";
        return false;
    }
    std::string ignored;
    for (const char* pragma : {"PRAGMA synchronous=FULL", "PRAGMA mmap_size=0"}) {
        if (retry_while_busy([&] { return query_text(db, pragma, &ignored); }) != SQLITE_OK) {
            *why = describe(db, pragma);
            return false;
        }
    }
    std::string check;
    if (retry_while_busy([&] { return query_text(db, "PRAGMA quick_check", &check); }) != SQLITE_OK) {
        *why = describe(db, "cannot check the quota ledger");
        return false;
    }
    if (check != "ok") {
        *why = "the quota ledger is damaged (quick_check: " + check + ")";
        return false;
    }
    return true;
}

int read_user_version(sqlite3* db, int* version) {
    std::string text;
    const int rc = query_text(db, "PRAGMA user_version", &text);
    if (rc == SQLITE_OK) *version = std::atoi(text.c_str());
    return rc;
}

// Many workers start at once: each checks the version, and the ones that find work to do re-check it inside the
// write transaction, so exactly one of them migrates and the others see the result.
bool migrate(sqlite3* db, std::string* why) {
    int version = 0;
    if (retry_while_busy([&] { return read_user_version(db, &version); }) != SQLITE_OK) {
        *why = describe(db, "cannot read the quota ledger schema version");
        return false;
    }
    if (version == kSchemaVersion) return true;
    if (version > kSchemaVersion) {
        // A newer build owns this file; writing to a schema we do not know could lose its count.
        *why = "the quota ledger schema version " + std::to_string(version) + " is newer than this build's (" +
               std::to_string(kSchemaVersion) + ")";
        return false;
    }
    if (retry_while_busy([&] { return sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr); }) !=
        SQLITE_OK) {
        *why = describe(db, "cannot lock the quota ledger to migrate it");
        return false;
    }
    bool ok = read_user_version(db, &version) == SQLITE_OK;
    if (ok && version < 1) {
        ok = sqlite3_exec(db, kSchemaV1, nullptr, nullptr, nullptr) == SQLITE_OK &&
             sqlite3_exec(db, "PRAGMA user_version=1", nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    if (ok) ok = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
    if (!ok) {
        *why = describe(db, "cannot migrate the quota ledger");
        if (sqlite3_get_autocommit(db) == 0) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        return false;
    }
    return true;
}

// Leaves a statement ready for its next use whichever way the current one ends.
class ResetOnExit {
public:
    explicit ResetOnExit(sqlite3_stmt* stmt) : stmt_(stmt) {}
    ~ResetOnExit() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    ResetOnExit(const ResetOnExit&) = delete;
    ResetOnExit& operator=(const ResetOnExit&) = delete;

private:
    sqlite3_stmt* stmt_;
};

}  // namespace

std::unique_ptr<QuotaLedger> QuotaLedger::open(const std::string& path, std::string* error) {
    if (path.empty()) {
        // SQLite would open a private temporary database: a ledger nobody else shares.
        if (error != nullptr) *error = "the quota ledger needs a file path";
        return nullptr;
    }
    std::string why;
    sqlite3* db = nullptr;
    // NOMUTEX: the ledger's own mutex already serializes every use of the connection.
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    bool ok = rc == SQLITE_OK;
    if (!ok) {
        why = describe(db, "cannot open the quota ledger");
    } else {
        sqlite3_extended_result_codes(db, 1);
        set_busy_wait(db, kBusyTimeoutMs);
        ok = configure(db, &why) && migrate(db, &why);
    }
    if (!ok) {
        sqlite3_close_v2(db);
        if (error != nullptr) *error = path + ": " + why;
        return nullptr;
    }
    std::unique_ptr<QuotaLedger> ledger(new QuotaLedger(path, db));
    if (!ledger->prepare_statements()) {
        if (error != nullptr) *error = path + ": " + ledger->last_error_;
        return nullptr;
    }
    // Registered last: it replaces SQLite's automatic (PASSIVE) checkpoint, see the top of this file.
    sqlite3_wal_hook(db, &QuotaLedger::on_wal_commit, ledger.get());
    return ledger;
}

QuotaLedger::QuotaLedger(std::string path, sqlite3* db) : owner_pid_(getpid()), path_(std::move(path)), db_(db) {}

QuotaLedger::~QuotaLedger() {
    if (usable()) release();
}

void QuotaLedger::release() noexcept {
    for (sqlite3_stmt** stmt :
         {&begin_, &commit_, &rollback_, &select_day_, &add_used_, &subtract_used_, &set_exhausted_}) {
        sqlite3_finalize(*stmt);
        *stmt = nullptr;
    }
    sqlite3_close_v2(db_);
    db_ = nullptr;
}

void QuotaLedger::close_connection() noexcept {
    if (!usable()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (db_) release();
}

bool QuotaLedger::connected() {
    if (db_) return true;
    sqlite3* db = nullptr;
    std::string why;
    bool ok = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) == SQLITE_OK;
    if (ok) {
        sqlite3_extended_result_codes(db, 1);
        set_busy_wait(db, kBusyTimeoutMs);
        ok = configure(db, &why);
    } else {
        why = describe(db, "cannot open the quota ledger");
    }
    if (!ok) {
        sqlite3_close_v2(db);
        last_error_ = path_ + ": " + why;
        return false;
    }
    db_ = db;
    if (!prepare_statements()) {
        release();
        return false;
    }
    sqlite3_wal_hook(db_, &QuotaLedger::on_wal_commit, this);
    return true;
}

void QuotaLedger::abandon_after_fork() noexcept {
    abandoned_.store(true);
    db_ = nullptr;
    begin_ = commit_ = rollback_ = select_day_ = add_used_ = subtract_used_ = set_exhausted_ = nullptr;
}

bool QuotaLedger::usable() const noexcept { return !abandoned_.load() && getpid() == owner_pid_; }

std::string QuotaLedger::last_error() const {
    if (!usable()) return "the quota ledger belongs to another process";
    std::lock_guard<std::mutex> lock(mutex_);
    return last_error_;
}

void QuotaLedger::fail(const char* what) { last_error_ = describe(db_, what); }

bool QuotaLedger::prepare_statements() {
    const std::pair<sqlite3_stmt**, const char*> statements[] = {
        {&begin_, "BEGIN IMMEDIATE"},
        {&commit_, "COMMIT"},
        {&rollback_, "ROLLBACK"},
        {&select_day_, "SELECT used, exhausted FROM quota_days WHERE day = ?1"},
        {&add_used_,
         "INSERT INTO quota_days (day, used, exhausted, updated_at) VALUES (?1, ?2, 0, ?3)"
         " ON CONFLICT (day) DO UPDATE SET used = used + excluded.used, updated_at = excluded.updated_at"},
        {&subtract_used_, "UPDATE quota_days SET used = max(0, used - ?2), updated_at = ?3 WHERE day = ?1"},
        {&set_exhausted_,
         "INSERT INTO quota_days (day, used, exhausted, updated_at) VALUES (?1, 0, ?2, ?3)"
         " ON CONFLICT (day) DO UPDATE SET exhausted = excluded.exhausted, updated_at = excluded.updated_at"},
    };
    for (const auto& [stmt, sql] : statements) {
        if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK) {
            fail("cannot prepare the quota ledger statements");
            return false;
        }
    }
    return true;
}

bool QuotaLedger::begin_immediate() {
    ResetOnExit reset(begin_);
    if (sqlite3_step(begin_) == SQLITE_DONE) return true;
    fail("cannot lock the quota ledger");
    return false;
}

bool QuotaLedger::commit() {
    ResetOnExit reset(commit_);
    if (sqlite3_step(commit_) == SQLITE_DONE) return true;
    fail("cannot commit to the quota ledger");
    return false;
}

void QuotaLedger::rollback_quietly() {
    // A failed statement may already have rolled the transaction back.
    if (sqlite3_get_autocommit(db_) != 0) return;
    ResetOnExit reset(rollback_);
    sqlite3_step(rollback_);
}

bool QuotaLedger::read_day(const std::string& day, int64_t* used, bool* exhausted) {
    ResetOnExit reset(select_day_);
    sqlite3_bind_text(select_day_, 1, day.data(), static_cast<int>(day.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(select_day_);
    if (rc == SQLITE_ROW) {
        *used = sqlite3_column_int64(select_day_, 0);
        *exhausted = sqlite3_column_int(select_day_, 1) != 0;
        return true;
    }
    if (rc == SQLITE_DONE) {
        *used = 0;
        *exhausted = false;
        return true;
    }
    fail("cannot read the quota ledger");
    return false;
}

bool QuotaLedger::write_day(sqlite3_stmt* stmt, const std::string& day, int64_t value, int64_t now) {
    ResetOnExit reset(stmt);
    sqlite3_bind_text(stmt, 1, day.data(), static_cast<int>(day.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, value);
    sqlite3_bind_int64(stmt, 3, now);
    if (sqlite3_step(stmt) == SQLITE_DONE) return true;
    fail("cannot write the quota ledger");
    return false;
}

int QuotaLedger::on_wal_commit(void* self, sqlite3*, const char*, int frames) {
    // Runs inside COMMIT, so under the ledger's mutex.
    static_cast<QuotaLedger*>(self)->wal_frames_ = frames;
    return SQLITE_OK;
}

void QuotaLedger::checkpoint_if_due() {
    if (wal_frames_ < kCheckpointFrames) return;
    wal_frames_ = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
    // The commit before it stands either way; a busy checkpoint is tried again after a later commit.
    if (rc != SQLITE_OK && !is_busy(rc)) fail("cannot checkpoint the quota ledger");
}

int64_t QuotaLedger::reserve(int64_t units, int64_t daily_limit, int64_t now) {
    if (units <= 0 || daily_limit <= 0) return 0;
    if (!usable()) return -1;
    const std::string day = pacific_day_key(now);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!connected() || !begin_immediate()) return -1;
    int64_t used = 0;
    bool exhausted = false;
    if (!read_day(day, &used, &exhausted)) {
        rollback_quietly();
        return -1;
    }
    const int64_t granted = exhausted ? 0 : std::clamp<int64_t>(daily_limit - used, 0, units);
    if ((granted > 0 && !write_day(add_used_, day, granted, now)) || !commit()) {
        rollback_quietly();
        return -1;
    }
    checkpoint_if_due();
    return granted;
}

bool QuotaLedger::refund(int64_t units, int64_t reserved_at, int64_t now) {
    if (!usable()) return false;
    if (units <= 0) return true;
    const std::string day = pacific_day_key(reserved_at);
    if (day != pacific_day_key(now)) return true;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!connected() || !begin_immediate()) return false;
    // No row means nothing was reserved that day: nothing to give back.
    if (!write_day(subtract_used_, day, units, now) || !commit()) {
        rollback_quietly();
        return false;
    }
    checkpoint_if_due();
    return true;
}

bool QuotaLedger::refund(int64_t units, int64_t now) { return refund(units, now, now); }

bool QuotaLedger::mark_exhausted(int64_t now) {
    if (!usable()) return false;
    const std::string day = pacific_day_key(now);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!connected() || !begin_immediate()) return false;
    if (!write_day(set_exhausted_, day, 1, now) || !commit()) {
        rollback_quietly();
        return false;
    }
    checkpoint_if_due();
    return true;
}

QuotaStatus QuotaLedger::status(int64_t daily_limit, int64_t now) {
    QuotaStatus s;
    s.limit = std::max<int64_t>(daily_limit, 0);
    s.resets_at = pacific_next_midnight(now);
    if (!usable()) return s;
    const std::string day = pacific_day_key(now);
    int64_t used = 0;
    bool marked = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!connected() || !read_day(day, &used, &marked)) return s;
    }
    s.used = used;
    s.exhausted = marked || used >= s.limit;
    s.remaining = s.exhausted ? 0 : s.limit - used;
    s.ok = true;
    return s;
}

}  // namespace vault_metadata
