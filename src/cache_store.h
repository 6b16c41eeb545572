// The SQLite cache of video metadata: one file shared by every worker of the host.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "video_meta.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vault_metadata {

struct CacheOptions {
    std::string path;
    int pool_size = 4;
    // 0 disables memory-mapped I/O: SQLite 3.40 has a WAL-reset race that a large
    // mapping turns into structural corruption when several processes write.
    int64_t mmap_size = 0;
};

// Another process's claim on an id it is fetching: wait for its answer instead of asking again.
struct ForeignClaim {
    std::string video_id;
    int64_t claimed_at = 0;
};

enum class ClaimState { pending, landed, omitted, abandoned };

// One connection with its statements prepared once; used by one thread at a time.
class CacheConnection {
public:
    ~CacheConnection();
    CacheConnection(const CacheConnection&) = delete;
    CacheConnection& operator=(const CacheConnection&) = delete;

    // The row of one video, or nullopt when absent. A payload that no longer decodes
    // counts as absent so that it gets refetched instead of poisoning every answer.
    std::optional<VideoMeta> find_video(std::string_view video_id, bool* error);
    // When YouTube last omitted this id, or nullopt.
    std::optional<int64_t> negative_checked_at(std::string_view video_id, bool* error);

    // Claims ids for an upstream fetch by `holder`, so that other processes wait for it
    // instead of spending quota on the same ids. A claim older than `expired_before` is
    // taken over; one released after `read_at_ms` (Unix ms of the caller's cache read) is
    // not: its answer landed after that read. `mine` gets the ids this holder now owns,
    // `foreign` the others (to be polled).
    bool claim(const std::vector<std::string>& ids, const std::string& holder, int64_t now,
               int64_t expired_before, int64_t read_at_ms, std::vector<std::string>& mine,
               std::vector<ForeignClaim>& foreign, std::string* error);
    // Where another process's fetch of a claimed id stands; `row` is set when it landed.
    ClaimState poll_claim(const ForeignClaim& claim, int64_t expired_before, std::optional<VideoMeta>& row);

    // Writes one fetch round in a single BEGIN IMMEDIATE transaction: the items
    // returned, the ids YouTube omitted (which lose any stored row), and the release of
    // this holder's claims on `released_ids` (every id of the round, failed ones too).
    bool write_fetch_results(const std::vector<VideoMeta>& items, const std::vector<std::string>& omitted_ids,
                             const std::vector<std::string>& released_ids, const std::string& holder,
                             int64_t now, std::string* error);

    // Channel handles known since `fresh_after`, by channel id.
    std::vector<std::pair<std::string, std::string>> channel_handles(const std::vector<std::string>& channel_ids,
                                                                     int64_t fresh_after);
    // Puts known handles into the stored rows of these videos, as the rows are now, in one
    // transaction; rows that are gone stay gone, newer rows keep their data.
    bool apply_channel_handles(const std::vector<std::string>& video_ids,
                               const std::vector<std::pair<std::string, std::string>>& handles, std::string* error);
    bool write_channel_handles(const std::vector<std::pair<std::string, std::string>>& handles,
                               const std::vector<std::string>& without_handle, int64_t now, std::string* error);

    // Remembers that these ids were asked for, for the background refresh.
    bool note_requests(const std::vector<std::string>& ids, int64_t now, std::string* error);
    // Requested since `requested_since` and fetched at or before `fetched_before`.
    std::vector<std::string> refresh_candidates(int64_t requested_since, int64_t fetched_before, int limit);
    bool forget_requests_before(int64_t requested_before);

    // Takes or renews the lease `name` for `holder` until `expires_at`; false when another
    // holder's lease has not expired.
    bool acquire_lease(const std::string& name, const std::string& holder, int64_t now, int64_t expires_at);
    std::optional<std::pair<std::string, int64_t>> lease_holder(const std::string& name);

    // Groups reads in one transaction: one snapshot, opened once instead of per statement.
    bool begin_read() { return exec_simple("BEGIN"); }
    void end_read() { exec_simple("COMMIT"); }

    // Small host-wide facts (what was last pushed to the metrics server).
    std::optional<int64_t> marker(const std::string& name);
    bool set_marker(const std::string& name, int64_t value);

    // A passive WAL checkpoint; run by the lease holder only.
    bool checkpoint();

    int64_t count_videos();
    sqlite3* handle() const noexcept { return db_; }

private:
    friend class CacheStore;
    enum Statement {
        kSelectVideo,
        kSelectNegative,
        kUpsertVideo,
        kDeleteVideo,
        kUpsertNegative,
        kDeleteNegative,
        kClaim,
        kSelectClaim,
        kReleaseClaim,
        kSelectChannel,
        kUpsertChannel,
        kUpsertRequest,
        kRefreshCandidates,
        kForgetRequests,
        kAcquireLease,
        kSelectLease,
        kUpdatePayload,
        kStatementCount
    };
    explicit CacheConnection(sqlite3* db) : db_(db) {}
    bool prepare(std::string* error);
    bool begin(std::string* error);
    bool finish(bool ok, std::string* error);
    bool step_done(Statement which, std::string* error);
    bool exec_simple(const char* sql);

    sqlite3* db_;
    sqlite3_stmt* statements_[kStatementCount] = {};
};

// A small pool of connections to one cache file.
class CacheStore {
public:
    // Opens (creating and migrating if needed) the cache. A file that is not a database
    // or fails quick_check is moved aside and rebuilt: the cache can always be refetched.
    static std::shared_ptr<CacheStore> open(const CacheOptions& options, std::string* error);
    ~CacheStore();

    class Lease {
    public:
        Lease(CacheStore* store, std::unique_ptr<CacheConnection> conn)
            : store_(store), conn_(std::move(conn)) {}
        Lease(Lease&&) = default;
        ~Lease() {
            if (conn_) store_->release(std::move(conn_));
        }
        CacheConnection* operator->() const noexcept { return conn_.get(); }
        explicit operator bool() const noexcept { return conn_ != nullptr; }

    private:
        CacheStore* store_;
        std::unique_ptr<CacheConnection> conn_;
    };

    // A connection for the calling thread; an empty lease when none can be opened.
    Lease acquire(std::string* error = nullptr);

    const CacheOptions& options() const noexcept { return options_; }

    // Closes the idle connections of every store of this process. Called before fork(): SQLite
    // shares per-file lock state among all connections of a process, so a child that inherits
    // an open connection would believe the parent's locks held and wait on them forever.
    static void close_idle_connections_everywhere();
    int open_connections() const;
    int idle_connections() const;
    // True when the last migration rebuilt a damaged file.
    bool was_rebuilt() const noexcept { return rebuilt_; }

    static constexpr int kSchemaVersion = 4;

private:
    explicit CacheStore(CacheOptions options);
    std::unique_ptr<CacheConnection> connect(std::string* error);
    void release(std::unique_ptr<CacheConnection> conn);

    CacheOptions options_;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<CacheConnection>> idle_;
    int open_count_ = 0;
    bool rebuilt_ = false;
};

}  // namespace vault_metadata
