#include "telemetry.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <type_traits>

namespace vault_metadata {

namespace telemetry_detail {

constexpr uint64_t kMagic = 0x314d4c5454544d56ULL;  // "VMTTTLM1", little-endian
constexpr uint32_t kVersion = 1;
constexpr std::size_t kRingSize = 65536;
constexpr std::size_t kMinuteSlots = 60;
constexpr std::size_t kFiniteBuckets = 76;
constexpr std::size_t kBuckets = kFiniteBuckets + 1;  // + overflow (> 30 s)
constexpr std::size_t kKinds = 3;
constexpr int64_t kMinuteMs = 60000;
constexpr int64_t kEventTtlMs = 60000;
// Events are appended in lock order, which follows their at_ms up to a call's duration; a backward scan of the
// ring stops at the first event older than this (a clock stepped forward leaves nothing newer behind it).
constexpr int64_t kScanStopAgeMs = 10 * kMinuteMs;
constexpr int kWriteLockTimeoutMs = 250;
constexpr int kReadLockTimeoutMs = 2000;

struct Counters {
    uint64_t calls, ids, fresh, stale, refreshed, missing, upstream_calls, quota_units;
    uint64_t calls_by_kind[kKinds];
    uint64_t upstream_errors[kErrorClassCount];
    uint64_t latency_count, latency_sum_us;
    uint64_t latency_buckets[kBuckets];
};

struct MinuteSlot {
    int64_t minute_start;
    uint64_t valid;  // 0 while being reset: a slot is counted only when valid and tagged with the minute
    Counters c;
};

struct EventSlot {
    uint64_t seq;  // 0 while being written; valid when it is the sequence number this index holds
    int64_t at_ms;
    uint8_t id[12];
    uint8_t has_id, kind, upstream_error, reserved0;
    uint32_t ids, fresh, stale, refreshed, missing, latency_us;
    int32_t pid;
    uint32_t reserved1;
};
static_assert(sizeof(EventSlot) == 64);

}  // namespace telemetry_detail

using namespace telemetry_detail;

struct TelemetryArea {
    uint64_t magic;  // stored last, with release, once everything else is initialised
    uint32_t version;
    uint32_t reserved;
    uint64_t size;
    uint64_t layout;
    int64_t created_ms;
    alignas(64) pthread_mutex_t mutex;
    // Everything below is read and written under `mutex`, except `dropped` (lock-free atomic).
    alignas(64) uint64_t next_seq;  // sequence number of the newest event; 0: none yet
    uint64_t lock_recoveries;
    uint64_t dropped;
    int64_t last_success_ms;
    int64_t last_error_ms;
    uint64_t last_error_class;
    Counters totals;
    alignas(64) MinuteSlot minutes[kMinuteSlots];
    alignas(64) EventSlot ring[kRingSize];
};

static_assert(std::is_trivially_copyable_v<TelemetryArea>);
static_assert(std::is_standard_layout_v<TelemetryArea>);
static_assert(std::atomic_ref<uint64_t>::is_always_lock_free);

namespace {

constexpr uint64_t kLayout = (static_cast<uint64_t>(sizeof(TelemetryArea)) << 20) ^
                             (static_cast<uint64_t>(sizeof(pthread_mutex_t)) << 8) ^
                             (static_cast<uint64_t>(kBuckets) << 40) ^ (static_cast<uint64_t>(kRingSize) << 44) ^
                             offsetof(TelemetryArea, totals) ^ (offsetof(TelemetryArea, ring) << 2);

std::vector<double> make_bounds() {
    static constexpr int kTenths[] = {10, 12, 15, 20, 25, 30, 40, 50, 60, 80};
    std::vector<double> b;
    double decade = 1;
    for (int d = 0; d < 7; ++d, decade *= 10) {
        for (int t : kTenths) b.push_back(static_cast<double>(t) * decade / 10.0);
    }
    for (int t : {10, 12, 15, 20, 25, 30}) b.push_back(static_cast<double>(t) * 1e6);
    return b;
}

const std::vector<double>& bounds() {
    static const std::vector<double> b = make_bounds();
    return b;
}

std::size_t bucket_of(uint32_t latency_us) {
    const auto& b = bounds();
    return static_cast<std::size_t>(
        std::lower_bound(b.begin(), b.end(), static_cast<double>(latency_us)) - b.begin());
}

// Interpolated within the bucket that holds the rank; the overflow bucket reports the last bound (30 s).
double percentile_ms(const uint64_t (&buckets)[kBuckets], uint64_t count, double q) {
    if (count == 0) return 0;
    const auto& b = bounds();
    const double rank = std::max(q * static_cast<double>(count), 1e-9);
    double cumulative = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        if (buckets[i] == 0) continue;
        const double here = static_cast<double>(buckets[i]);
        if (cumulative + here >= rank) {
            if (i == kFiniteBuckets) return b.back() / 1000.0;
            const double lower = i == 0 ? 0.0 : b[i - 1];
            const double fraction = (rank - cumulative) / here;
            return (lower + (b[i] - lower) * fraction) / 1000.0;
        }
        cumulative += here;
    }
    return b.back() / 1000.0;
}

int64_t floor_minute(int64_t ms) {
    int64_t q = ms / kMinuteMs;
    if (ms % kMinuteMs < 0) --q;
    return q * kMinuteMs;
}

std::size_t slot_of(int64_t minute_start) {
    int64_t m = (minute_start / kMinuteMs) % static_cast<int64_t>(kMinuteSlots);
    if (m < 0) m += static_cast<int64_t>(kMinuteSlots);
    return static_cast<std::size_t>(m);
}

inline void compiler_order() { std::atomic_signal_fence(std::memory_order_seq_cst); }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool parse_id(std::string_view s, uint8_t (&out)[12]) {
    if (s.size() != 24) return false;
    for (std::size_t i = 0; i < 12; ++i) {
        const int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<uint8_t>(hi * 16 + lo);
    }
    return true;
}

CallEvent to_event(const EventSlot& s) {
    CallEvent e;
    e.at_ms = s.at_ms;
    if (s.has_id) {
        static const char hex[] = "0123456789abcdef";
        for (std::size_t i = 0; i < 12; ++i) {
            e.correlation_id[2 * i] = hex[s.id[i] >> 4];
            e.correlation_id[2 * i + 1] = hex[s.id[i] & 15];
        }
        e.correlation_id[24] = '\0';
    }
    e.kind = s.kind < kKinds ? static_cast<CallKind>(s.kind) : CallKind::fetch_batch;
    e.ids = s.ids;
    e.fresh = s.fresh;
    e.stale = s.stale;
    e.refreshed = s.refreshed;
    e.missing = s.missing;
    e.latency_us = s.latency_us;
    e.upstream_error =
        s.upstream_error < kErrorClassCount ? static_cast<ErrorClass>(s.upstream_error) : ErrorClass::none;
    e.pid = s.pid;
    return e;
}

// The slot of `minute_start`, zeroed first when it holds another minute (older, or newer after the clock was
// set back). The tag is written after the zeroing, so a writer killed half-way leaves a slot that is reset again.
Counters& minute_counters(TelemetryArea* a, int64_t minute_start) {
    MinuteSlot& slot = a->minutes[slot_of(minute_start)];
    if (!slot.valid || slot.minute_start != minute_start) {
        slot.valid = 0;
        compiler_order();
        std::memset(&slot.c, 0, sizeof(slot.c));
        slot.minute_start = minute_start;
        compiler_order();
        slot.valid = 1;
    }
    return slot.c;
}

bool minute_copy(const TelemetryArea* a, int64_t minute_start, Counters* out) {
    const MinuteSlot& slot = a->minutes[slot_of(minute_start)];
    if (!slot.valid || slot.minute_start != minute_start) return false;
    *out = slot.c;
    return true;
}

void merge(Counters& into, const Counters& c) {
    into.calls += c.calls;
    into.ids += c.ids;
    into.fresh += c.fresh;
    into.stale += c.stale;
    into.refreshed += c.refreshed;
    into.missing += c.missing;
    into.upstream_calls += c.upstream_calls;
    into.quota_units += c.quota_units;
    for (std::size_t i = 0; i < kKinds; ++i) into.calls_by_kind[i] += c.calls_by_kind[i];
    for (std::size_t i = 0; i < kErrorClassCount; ++i) into.upstream_errors[i] += c.upstream_errors[i];
    into.latency_count += c.latency_count;
    into.latency_sum_us += c.latency_sum_us;
    for (std::size_t i = 0; i < kBuckets; ++i) into.latency_buckets[i] += c.latency_buckets[i];
}

MinuteStats to_stats(int64_t minute_start, const Counters& c) {
    MinuteStats s;
    s.minute_start = minute_start;
    s.calls = c.calls;
    s.ids = c.ids;
    s.fresh = c.fresh;
    s.stale = c.stale;
    s.refreshed = c.refreshed;
    s.missing = c.missing;
    s.upstream_calls = c.upstream_calls;
    s.quota_units = c.quota_units;
    for (std::size_t i = 1; i < kErrorClassCount; ++i) s.upstream_errors[i] = c.upstream_errors[i];
    s.latency_count = c.latency_count;
    s.latency_sum_us = c.latency_sum_us;
    s.p50_ms = percentile_ms(c.latency_buckets, c.latency_count, 0.50);
    s.p95_ms = percentile_ms(c.latency_buckets, c.latency_count, 0.95);
    s.p99_ms = percentile_ms(c.latency_buckets, c.latency_count, 0.99);
    return s;
}

std::string fmt(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
}

std::string fmt(uint64_t v) { return std::to_string(v); }

void family(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void sample(std::string& out, const std::string& name, const std::string& labels, const std::string& value) {
    out += name;
    if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

void raw_monotonic(timespec* ts) {
    // A raw syscall: libfaketime interposes clock_gettime(), and a skewed deadline would make the wait unbounded
    // or zero. The kernel's futex takes the same clock.
    if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ts) != 0) clock_gettime(CLOCK_MONOTONIC, ts);
}

void sleep_ms(long ms) {
    timespec ts{0, ms * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

std::string errno_text(const char* what, const std::string& path, int err) {
    return std::string("telemetry: ") + what + " " + path + ": " + std::strerror(err);
}

constexpr const char* kKindNames[kKinds] = {"fetch_batch", "fetch_batch_detailed", "prefetch"};

}  // namespace

const char* call_kind_name(CallKind k) noexcept {
    const auto i = static_cast<std::size_t>(k);
    return i < kKinds ? kKindNames[i] : "unknown";
}

const std::vector<double>& Telemetry::latency_bucket_bounds_us() { return bounds(); }

int64_t Telemetry::wall_clock_ms() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Telemetry::~Telemetry() {
    if (area_) munmap(area_, map_size_);
}

void Telemetry::init_area(bool process_shared) {
    std::atomic_ref<uint64_t>(area_->magic).store(0, std::memory_order_release);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (process_shared) pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&area_->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    area_->version = kVersion;
    area_->size = sizeof(TelemetryArea);
    area_->layout = kLayout;
    area_->created_ms = wall_clock_ms();
    std::atomic_ref<uint64_t>(area_->magic).store(kMagic, std::memory_order_release);
}

std::unique_ptr<Telemetry> Telemetry::open(const std::string& path, std::string* error) {
    std::unique_ptr<Telemetry> t(new Telemetry());
    t->path_ = path;
    t->map_size_ = sizeof(TelemetryArea);
    std::string why;

    auto try_shared = [&]() -> bool {
        if (path.empty()) {
            why = "telemetry: no path given";
            return false;
        }
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0660);
        if (fd < 0) {
            why = errno_text("cannot open", path, errno);
            return false;
        }
        // The mapping keeps the open file description alive after close(), and with it a flock: unlock first.
        struct Closer {
            int fd;
            ~Closer() {
                flock(fd, LOCK_UN);
                ::close(fd);
            }
        } closer{fd};
        // Bounded: the flock is held only while a process checks or initialises the file.
        bool locked = false;
        for (int i = 0; i < 5000 && !locked; ++i) {
            if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
                locked = true;
            } else if (errno == EWOULDBLOCK || errno == EINTR) {
                sleep_ms(1);
            } else {
                why = errno_text("cannot flock", path, errno);
                return false;
            }
        }
        if (!locked) {
            why = "telemetry: timed out waiting for the flock of " + path;
            return false;
        }
        struct stat st {};
        if (fstat(fd, &st) != 0) {
            why = errno_text("cannot stat", path, errno);
            return false;
        }
        if (!S_ISREG(st.st_mode)) {
            why = "telemetry: not a regular file: " + path;
            return false;
        }
        const bool was_empty = st.st_size == 0;
        if (static_cast<uint64_t>(st.st_size) != sizeof(TelemetryArea) &&
            ftruncate(fd, static_cast<off_t>(sizeof(TelemetryArea))) != 0) {
            why = errno_text("cannot resize", path, errno);
            return false;
        }
        // Reserve the blocks now: a page fault on a full file system would otherwise be a SIGBUS in a worker.
        if (const int rc = posix_fallocate(fd, 0, static_cast<off_t>(sizeof(TelemetryArea)));
            rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) {
            why = errno_text("cannot allocate", path, rc);
            return false;
        }
        void* p = mmap(nullptr, sizeof(TelemetryArea), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            why = errno_text("cannot mmap", path, errno);
            return false;
        }
        t->area_ = static_cast<TelemetryArea*>(p);
        TelemetryArea* a = t->area_;
        const bool valid = std::atomic_ref<uint64_t>(a->magic).load(std::memory_order_acquire) == kMagic &&
                           a->version == kVersion && a->size == sizeof(TelemetryArea) && a->layout == kLayout;
        if (!valid) {
            if (!was_empty) {
                std::atomic_ref<uint64_t>(a->magic).store(0, std::memory_order_release);
                std::memset(static_cast<void*>(a), 0, sizeof(TelemetryArea));
            }
            t->init_area(true);
            t->initialised_ = true;
        }
        t->shared_ = true;
        return true;  // the Closer releases the flock and closes the fd; the mapping stays
    };

    if (try_shared()) return t;
    if (t->area_) {
        munmap(t->area_, t->map_size_);
        t->area_ = nullptr;
    }
    void* p = mmap(nullptr, sizeof(TelemetryArea), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        if (error) *error = why + "; and no private memory either: " + std::strerror(errno);
        return nullptr;
    }
    t->area_ = static_cast<TelemetryArea*>(p);
    t->init_area(false);
    t->initialised_ = true;
    if (error) *error = why + "; telemetry is in-process only";
    return t;
}

bool Telemetry::lock(int timeout_ms) {
    // Uncontended, the common case: no clock read (it is a system call here) and no wait.
    const int tried = pthread_mutex_trylock(&area_->mutex);
    if (tried == 0) return true;
    if (tried == EOWNERDEAD) {
        // Now ours, left by a holder that died: see below.
        pthread_mutex_consistent(&area_->mutex);
        ++area_->lock_recoveries;
        return true;
    }
    timespec deadline{};
    raw_monotonic(&deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += static_cast<long>(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000L;
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
        const int rc = pthread_mutex_clocklock(&area_->mutex, CLOCK_MONOTONIC, &deadline);
        if (rc == 0) return true;
        if (rc == EOWNERDEAD) {
            // The holder died inside a critical section. Every write is ordered so that what it left is either
            // invisible (an event whose seq is not yet published, a minute slot not yet marked valid) or a few
            // counters of one record: nothing to repair.
            pthread_mutex_consistent(&area_->mutex);
            ++area_->lock_recoveries;
            return true;
        }
        if (rc == ENOTRECOVERABLE) {
            // Only if someone unlocked after EOWNERDEAD without pthread_mutex_consistent(): never this code.
            // Nobody can hold it any more: initialise it again.
            pthread_mutexattr_t attr;
            pthread_mutexattr_init(&attr);
            if (shared_) pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
            pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
            pthread_mutex_init(&area_->mutex, &attr);
            pthread_mutexattr_destroy(&attr);
            continue;
        }
        return false;  // ETIMEDOUT, EDEADLK, ...
    }
    return false;
}

void Telemetry::unlock() { pthread_mutex_unlock(&area_->mutex); }

bool Telemetry::record_call(const CallEvent& e) {
    const int64_t at_ms = e.at_ms != 0 ? e.at_ms : wall_clock_ms();
    EventSlot ev{};
    ev.at_ms = at_ms;
    ev.has_id = parse_id(std::string_view(e.correlation_id, strnlen(e.correlation_id, sizeof(e.correlation_id))),
                         ev.id)
                    ? 1
                    : 0;
    if (!ev.has_id) std::memset(ev.id, 0, sizeof(ev.id));
    const auto kind = static_cast<std::size_t>(e.kind);
    ev.kind = static_cast<uint8_t>(kind < kKinds ? kind : 0);
    const auto err = static_cast<std::size_t>(e.upstream_error);
    ev.upstream_error = static_cast<uint8_t>(err < kErrorClassCount ? err : 0);
    ev.ids = e.ids;
    ev.fresh = e.fresh;
    ev.stale = e.stale;
    ev.refreshed = e.refreshed;
    ev.missing = e.missing;
    ev.latency_us = e.latency_us;
    ev.pid = e.pid != 0 ? e.pid : static_cast<int32_t>(getpid());
    const std::size_t bucket = bucket_of(e.latency_us);
    const int64_t minute = floor_minute(at_ms);

    if (!lock(kWriteLockTimeoutMs)) {
        std::atomic_ref<uint64_t>(area_->dropped).fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    TelemetryArea* a = area_;
    const uint64_t seq = a->next_seq + 1;
    EventSlot& slot = a->ring[seq % kRingSize];
    slot.seq = 0;  // unpublished while half-written
    compiler_order();
    ev.seq = 0;
    slot = ev;
    compiler_order();
    slot.seq = seq;
    compiler_order();
    a->next_seq = seq;

    auto add = [&](Counters& c) {
        c.calls += 1;
        c.calls_by_kind[ev.kind] += 1;
        c.ids += e.ids;
        c.fresh += e.fresh;
        c.stale += e.stale;
        c.refreshed += e.refreshed;
        c.missing += e.missing;
        c.latency_count += 1;
        c.latency_sum_us += e.latency_us;
        c.latency_buckets[bucket] += 1;
    };
    add(a->totals);
    add(minute_counters(a, minute));
    unlock();
    return true;
}

bool Telemetry::record_upstream(int64_t at_ms, ErrorClass outcome, int64_t units) {
    if (at_ms == 0) at_ms = wall_clock_ms();
    const auto cls = static_cast<std::size_t>(outcome) < kErrorClassCount ? static_cast<std::size_t>(outcome) : 0;
    const uint64_t spent = units > 0 ? static_cast<uint64_t>(units) : 0;
    const int64_t minute = floor_minute(at_ms);
    if (!lock(kWriteLockTimeoutMs)) {
        std::atomic_ref<uint64_t>(area_->dropped).fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    TelemetryArea* a = area_;
    if (cls == 0) {
        a->last_success_ms = at_ms;
    } else {
        a->last_error_ms = at_ms;
        a->last_error_class = cls;
    }
    auto add = [&](Counters& c) {
        c.upstream_calls += 1;
        c.quota_units += spent;
        if (cls != 0) c.upstream_errors[cls] += 1;
    };
    add(a->totals);
    add(minute_counters(a, minute));
    unlock();
    return true;
}

std::vector<CallEvent> Telemetry::recent_events(int64_t now_ms, std::string_view correlation_id,
                                                std::size_t limit) {
    std::vector<CallEvent> out;
    uint8_t want[12] = {};
    const bool filter = !correlation_id.empty();
    if (filter && !parse_id(correlation_id, want)) return out;
    if (limit == 0 || !lock(kReadLockTimeoutMs)) return out;
    const TelemetryArea* a = area_;
    const uint64_t head = a->next_seq;
    const uint64_t oldest = head >= kRingSize ? head - kRingSize + 1 : 1;
    for (uint64_t seq = head; seq >= oldest && seq > 0; --seq) {
        const EventSlot& s = a->ring[seq % kRingSize];
        if (s.seq != seq) continue;
        const int64_t age = now_ms - s.at_ms;
        if (age >= kScanStopAgeMs) break;
        if (age < 0 || age >= kEventTtlMs) continue;
        if (filter && (!s.has_id || std::memcmp(s.id, want, sizeof(want)) != 0)) continue;
        out.push_back(to_event(s));
        if (out.size() >= limit) break;
    }
    unlock();
    return out;
}

std::vector<MinuteStats> Telemetry::minutes(int64_t now_ms, int count) {
    count = std::clamp(count, 0, static_cast<int>(kMinuteSlots));
    std::vector<MinuteStats> out;
    if (count == 0) return out;
    const int64_t current = floor_minute(now_ms);
    std::vector<Counters> copies(static_cast<std::size_t>(count));
    std::vector<bool> have(static_cast<std::size_t>(count), false);
    if (lock(kReadLockTimeoutMs)) {
        for (int i = 0; i < count; ++i) {
            const auto k = static_cast<std::size_t>(i);
            have[k] = minute_copy(area_, current - i * kMinuteMs, &copies[k]);
        }
        unlock();
    }
    out.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        const auto k = static_cast<std::size_t>(i);
        if (!have[k]) copies[k] = Counters{};
        out.push_back(to_stats(current - i * kMinuteMs, copies[k]));
    }
    return out;
}

MinuteStats Telemetry::window(int64_t now_ms, int count) {
    count = std::clamp(count, 1, static_cast<int>(kMinuteSlots));
    const int64_t current = floor_minute(now_ms);
    Counters sum{};
    if (lock(kReadLockTimeoutMs)) {
        for (int i = 0; i < count; ++i) {
            Counters c;
            if (minute_copy(area_, current - i * kMinuteMs, &c)) merge(sum, c);
        }
        unlock();
    }
    return to_stats(current - (count - 1) * kMinuteMs, sum);
}

Telemetry::LastUpstream Telemetry::last_upstream() {
    LastUpstream r;
    if (!lock(kReadLockTimeoutMs)) return r;
    r.success_at_ms = area_->last_success_ms;
    r.error_at_ms = area_->last_error_ms;
    r.error_class = area_->last_error_class < kErrorClassCount ? static_cast<ErrorClass>(area_->last_error_class)
                                                                : ErrorClass::none;
    unlock();
    return r;
}

uint64_t Telemetry::lock_recoveries() {
    if (!lock(kReadLockTimeoutMs)) return 0;
    const uint64_t n = area_->lock_recoveries;
    unlock();
    return n;
}

uint64_t Telemetry::dropped_records() {
    return std::atomic_ref<uint64_t>(area_->dropped).load(std::memory_order_relaxed);
}

std::string Telemetry::prometheus_text(int64_t now_ms) {
    const int64_t current = floor_minute(now_ms);
    Counters totals{}, last_minute{}, last_hour{};
    uint64_t recent = 0, recoveries = 0;
    int64_t created_ms = 0, success_ms = 0, error_ms = 0;
    if (lock(kReadLockTimeoutMs)) {
        const TelemetryArea* a = area_;
        totals = a->totals;
        minute_copy(a, current - kMinuteMs, &last_minute);
        for (std::size_t i = 0; i < kMinuteSlots; ++i) {
            Counters c;
            if (minute_copy(a, current - static_cast<int64_t>(i) * kMinuteMs, &c)) merge(last_hour, c);
        }
        const uint64_t head = a->next_seq;
        const uint64_t oldest = head >= kRingSize ? head - kRingSize + 1 : 1;
        for (uint64_t seq = head; seq >= oldest && seq > 0; --seq) {
            const EventSlot& s = a->ring[seq % kRingSize];
            if (s.seq != seq) continue;
            const int64_t age = now_ms - s.at_ms;
            if (age >= kScanStopAgeMs) break;
            if (age >= 0 && age < kEventTtlMs) ++recent;
        }
        recoveries = a->lock_recoveries;
        created_ms = a->created_ms;
        success_ms = a->last_success_ms;
        error_ms = a->last_error_ms;
        unlock();
    }
    const uint64_t dropped = dropped_records();
    std::string out;
    out.reserve(8192);

    family(out, "vault_metadata_calls_total", "counter",
           "Fetch calls recorded host-wide since the telemetry file was created, by function.");
    for (std::size_t k = 0; k < kKinds; ++k) {
        sample(out, "vault_metadata_calls_total", std::string("function=\"") + kKindNames[k] + "\"",
               fmt(totals.calls_by_kind[k]));
    }
    family(out, "vault_metadata_ids_requested_total", "counter", "Video ids asked for by fetch calls.");
    sample(out, "vault_metadata_ids_requested_total", "", fmt(totals.ids));
    family(out, "vault_metadata_ids_served_total", "counter",
           "Requested ids by how they were served: fresh (cache hit), stale, refreshed, missing.");
    sample(out, "vault_metadata_ids_served_total", "state=\"fresh\"", fmt(totals.fresh));
    sample(out, "vault_metadata_ids_served_total", "state=\"stale\"", fmt(totals.stale));
    sample(out, "vault_metadata_ids_served_total", "state=\"refreshed\"", fmt(totals.refreshed));
    sample(out, "vault_metadata_ids_served_total", "state=\"missing\"", fmt(totals.missing));
    family(out, "vault_metadata_upstream_requests_total", "counter", "Requests sent to the YouTube Data API.");
    sample(out, "vault_metadata_upstream_requests_total", "", fmt(totals.upstream_calls));
    family(out, "vault_metadata_upstream_errors_total", "counter", "Failed upstream requests by error class.");
    for (std::size_t c = 1; c < kErrorClassCount; ++c) {
        sample(out, "vault_metadata_upstream_errors_total",
               std::string("class=\"") + error_class_name(static_cast<ErrorClass>(c)) + "\"",
               fmt(totals.upstream_errors[c]));
    }
    family(out, "vault_metadata_quota_units_total", "counter", "YouTube Data API quota units spent.");
    sample(out, "vault_metadata_quota_units_total", "", fmt(totals.quota_units));

    family(out, "vault_metadata_call_latency_seconds", "histogram", "Latency of fetch calls.");
    {
        const auto& b = bounds();
        uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kFiniteBuckets; ++i) {
            cumulative += totals.latency_buckets[i];
            // Exposed: the 1, 2.5, 5 bounds of each decade (cumulative counts at internal bounds are exact).
            double mantissa = b[i];
            while (mantissa >= 10) mantissa /= 10;
            if (mantissa != 1 && mantissa != 2.5 && mantissa != 5) continue;
            sample(out, "vault_metadata_call_latency_seconds_bucket", "le=\"" + fmt(b[i] / 1e6) + "\"",
                   fmt(cumulative));
        }
        sample(out, "vault_metadata_call_latency_seconds_bucket", "le=\"+Inf\"", fmt(totals.latency_count));
        sample(out, "vault_metadata_call_latency_seconds_sum", "",
               fmt(static_cast<double>(totals.latency_sum_us) / 1e6));
        sample(out, "vault_metadata_call_latency_seconds_count", "", fmt(totals.latency_count));
    }
    family(out, "vault_metadata_call_latency_last_minute_seconds", "summary",
           "Latency of fetch calls during the last completed minute, percentiles from the histogram.");
    {
        const uint64_t n = last_minute.latency_count;
        const double nan = std::numeric_limits<double>::quiet_NaN();
        const std::pair<const char*, double> qs[] = {{"0.5", 0.50}, {"0.95", 0.95}, {"0.99", 0.99}};
        for (const auto& [label, q] : qs) {
            sample(out, "vault_metadata_call_latency_last_minute_seconds", std::string("quantile=\"") + label + "\"",
                   fmt(n ? percentile_ms(last_minute.latency_buckets, n, q) / 1000.0 : nan));
        }
        sample(out, "vault_metadata_call_latency_last_minute_seconds_sum", "",
               fmt(static_cast<double>(last_minute.latency_sum_us) / 1e6));
        sample(out, "vault_metadata_call_latency_last_minute_seconds_count", "", fmt(n));
    }
    family(out, "vault_metadata_cache_hit_ratio", "gauge",
           "Fresh ids over requested ids: window 1m is the last completed minute, 60m the last hour.");
    {
        auto ratio = [](const Counters& c) {
            return c.ids ? static_cast<double>(c.fresh) / static_cast<double>(c.ids)
                         : std::numeric_limits<double>::quiet_NaN();
        };
        sample(out, "vault_metadata_cache_hit_ratio", "window=\"1m\"", fmt(ratio(last_minute)));
        sample(out, "vault_metadata_cache_hit_ratio", "window=\"60m\"", fmt(ratio(last_hour)));
    }
    family(out, "vault_metadata_quota_units_last_hour", "gauge", "Quota units spent during the last 60 minutes.");
    sample(out, "vault_metadata_quota_units_last_hour", "", fmt(last_hour.quota_units));
    family(out, "vault_metadata_recent_events", "gauge", "Call events of the last 60 s held in the ring.");
    sample(out, "vault_metadata_recent_events", "", fmt(recent));
    family(out, "vault_metadata_last_upstream_success_timestamp_seconds", "gauge",
           "Unix time of the last successful upstream request (0: never).");
    sample(out, "vault_metadata_last_upstream_success_timestamp_seconds", "",
           fmt(static_cast<double>(success_ms) / 1000.0));
    family(out, "vault_metadata_last_upstream_error_timestamp_seconds", "gauge",
           "Unix time of the last failed upstream request (0: never).");
    sample(out, "vault_metadata_last_upstream_error_timestamp_seconds", "",
           fmt(static_cast<double>(error_ms) / 1000.0));
    family(out, "vault_metadata_telemetry_shared", "gauge",
           "1 when telemetry is host-wide (file-backed), 0 when in-process only.");
    sample(out, "vault_metadata_telemetry_shared", "", shared_ ? "1" : "0");
    family(out, "vault_metadata_telemetry_created_timestamp_seconds", "gauge",
           "Unix time the telemetry file was initialised; the counters start there.");
    sample(out, "vault_metadata_telemetry_created_timestamp_seconds", "",
           fmt(static_cast<double>(created_ms) / 1000.0));
    family(out, "vault_metadata_telemetry_lock_recoveries_total", "counter",
           "Times the telemetry lock was taken over from a process that died holding it.");
    sample(out, "vault_metadata_telemetry_lock_recoveries_total", "", fmt(recoveries));
    family(out, "vault_metadata_telemetry_dropped_records_total", "counter",
           "Records dropped because the telemetry lock could not be taken in time.");
    sample(out, "vault_metadata_telemetry_dropped_records_total", "", fmt(dropped));
    return out;
}

std::string Telemetry::prometheus_import_lines(int64_t now_ms, int64_t since_minute_ms) {
    const int64_t current = floor_minute(now_ms);
    std::vector<std::pair<int64_t, Counters>> done;  // oldest first
    if (lock(kReadLockTimeoutMs)) {
        for (int64_t i = static_cast<int64_t>(kMinuteSlots) - 1; i >= 1; --i) {
            const int64_t m = current - i * kMinuteMs;
            if (m < since_minute_ms) continue;
            Counters c;
            if (minute_copy(area_, m, &c)) done.emplace_back(m, c);
        }
        unlock();
    }
    std::string out;
    for (const auto& [m, c] : done) {
        const MinuteStats s = to_stats(m, c);
        const std::string ts = " " + std::to_string(m) + "\n";
        auto line = [&](const char* name, const std::string& labels, const std::string& value) {
            out += "vault_metadata_minute_";
            out += name;
            if (!labels.empty()) out += "{" + labels + "}";
            out += ' ';
            out += value;
            out += ts;
        };
        line("calls", "", fmt(s.calls));
        line("ids", "", fmt(s.ids));
        line("fresh", "", fmt(s.fresh));
        line("stale", "", fmt(s.stale));
        line("refreshed", "", fmt(s.refreshed));
        line("missing", "", fmt(s.missing));
        line("upstream_calls", "", fmt(s.upstream_calls));
        line("quota_units", "", fmt(s.quota_units));
        for (std::size_t k = 1; k < kErrorClassCount; ++k) {
            line("upstream_errors", std::string("class=\"") + error_class_name(static_cast<ErrorClass>(k)) + "\"",
                 fmt(s.upstream_errors[k]));
        }
        line("latency_count", "", fmt(s.latency_count));
        if (s.latency_count) {
            line("latency_p50_ms", "", fmt(s.p50_ms));
            line("latency_p95_ms", "", fmt(s.p95_ms));
            line("latency_p99_ms", "", fmt(s.p99_ms));
        }
        if (s.ids) line("cache_hit_ratio", "", fmt(s.cache_hit_ratio()));
    }
    return out;
}

}  // namespace vault_metadata
