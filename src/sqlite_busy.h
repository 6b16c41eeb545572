// How a connection waits for another process's write lock.
#pragma once

struct sqlite3;

namespace vault_metadata {

// Like sqlite3_busy_timeout(), but polling every millisecond or two instead of SQLite's
// back-off, which sleeps up to 100 ms at a time: with twenty workers taking turns on one
// lock, those long sleeps, not the work, were the wait.
void set_busy_wait(sqlite3* db, int timeout_ms);

// From now on, waits end after 200 ms: the process is shutting down, and a write that
// cannot get the lock by then is dropped (the answer is fetched again later) rather than
// holding up the worker's exit.
void shorten_busy_waits() noexcept;

}  // namespace vault_metadata
