#include "telemetry.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace vault_metadata {
namespace {

constexpr int64_t kT = 1751612400000;  // 2025-07-04 07:00:00 UTC, a minute start
constexpr int64_t kMin = 60000;

std::string make_id(unsigned a, unsigned long long b) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "c0ffee%02x%016llx", a & 0xffu, b);
    return buf;
}

CallEvent event(int64_t at_ms, const std::string& id, uint32_t latency_us = 1000, uint32_t ids = 3) {
    CallEvent e;
    e.at_ms = at_ms;
    std::snprintf(e.correlation_id, sizeof(e.correlation_id), "%s", id.c_str());
    e.kind = CallKind::fetch_batch_detailed;
    e.ids = ids;
    e.fresh = ids > 0 ? ids - 1 : 0;
    e.stale = 0;
    e.refreshed = ids > 0 ? 1 : 0;
    e.missing = 0;
    e.latency_us = latency_us;
    e.upstream_error = ErrorClass::none;
    return e;
}

// Width of the histogram bucket that holds `ms`: the resolution the percentiles are promised within.
double bucket_width_ms(double ms) {
    const auto& b = Telemetry::latency_bucket_bounds_us();
    const double us = ms * 1000.0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (us <= b[i]) return (b[i] - (i ? b[i - 1] : 0.0)) / 1000.0;
    }
    return 0;
}

class TelemetryTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "telemetry_test.XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        path_ = dir_ + "/telemetry.bin";
    }
    void TearDown() override {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    std::unique_ptr<Telemetry> open_shared(const std::string& path = {}) {
        std::string error;
        auto t = Telemetry::open(path.empty() ? path_ : path, &error);
        EXPECT_NE(t, nullptr);
        if (t) {
            EXPECT_TRUE(t->shared()) << error;
        }
        return t;
    }
    // Waits for a child and returns its exit code (-signal when killed).
    static int reap(pid_t pid) {
        int status = 0;
        if (waitpid(pid, &status, 0) != pid) return -1000;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return -WTERMSIG(status);
        return -999;
    }
    std::string dir_;
    std::string path_;
};

TEST_F(TelemetryTest, RecordsAndReadsBackNewestFirst) {
    auto t = open_shared();
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->initialised_file());
    const std::string a = make_id(1, 1), b = make_id(1, 2);
    CallEvent e = event(kT + 10, a, 1234, 7);
    e.stale = 2;
    e.missing = 1;
    e.upstream_error = ErrorClass::timeout;
    e.kind = CallKind::prefetch;
    ASSERT_TRUE(t->record_call(e));
    ASSERT_TRUE(t->record_call(event(kT + 20, b)));

    auto got = t->recent_events(kT + 30);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_STREQ(got[0].correlation_id, b.c_str());
    EXPECT_STREQ(got[1].correlation_id, a.c_str());
    EXPECT_EQ(got[1].at_ms, kT + 10);
    EXPECT_EQ(got[1].kind, CallKind::prefetch);
    EXPECT_EQ(got[1].ids, 7u);
    EXPECT_EQ(got[1].fresh, 6u);
    EXPECT_EQ(got[1].stale, 2u);
    EXPECT_EQ(got[1].refreshed, 1u);
    EXPECT_EQ(got[1].missing, 1u);
    EXPECT_EQ(got[1].latency_us, 1234u);
    EXPECT_EQ(got[1].upstream_error, ErrorClass::timeout);
    EXPECT_EQ(got[1].pid, static_cast<int32_t>(getpid()));
    EXPECT_EQ(t->recent_events(kT + 30, {}, 1).size(), 1u);

    // A second process-level open sees the same data and does not re-initialise.
    auto again = open_shared();
    EXPECT_FALSE(again->initialised_file());
    EXPECT_EQ(again->recent_events(kT + 30).size(), 2u);

    // at_ms 0 means now, by the wall clock.
    const int64_t before = Telemetry::wall_clock_ms();
    ASSERT_TRUE(t->record_call(event(0, make_id(1, 3))));
    auto now = t->recent_events(Telemetry::wall_clock_ms(), make_id(1, 3));
    ASSERT_EQ(now.size(), 1u);
    EXPECT_GE(now[0].at_ms, before);
}

TEST_F(TelemetryTest, EventsAreNeverReturnedOnce60sOld) {
    auto t = open_shared();
    ASSERT_TRUE(t->record_call(event(kT, make_id(2, 1))));
    ASSERT_TRUE(t->record_call(event(kT + 30000, make_id(2, 2))));
    EXPECT_EQ(t->recent_events(kT).size(), 1u);
    EXPECT_EQ(t->recent_events(kT + 59999).size(), 2u);
    auto at60 = t->recent_events(kT + 60000);
    ASSERT_EQ(at60.size(), 1u);
    EXPECT_STREQ(at60[0].correlation_id, make_id(2, 2).c_str());
    EXPECT_EQ(t->recent_events(kT + 90000).size(), 0u);
    EXPECT_EQ(t->recent_events(kT + 3600000).size(), 0u);
    // Not yet happened (a clock set back): not returned either.
    EXPECT_EQ(t->recent_events(kT - 1).size(), 0u);
    // Minute aggregates outlive the ring.
    EXPECT_EQ(t->minutes(kT + 90000, 2)[1].calls, 2u);
}

TEST_F(TelemetryTest, FiltersByCorrelationId) {
    auto t = open_shared();
    for (unsigned i = 0; i < 50; ++i) ASSERT_TRUE(t->record_call(event(kT + i, make_id(3, i % 5))));
    auto got = t->recent_events(kT + 100, make_id(3, 2));
    ASSERT_EQ(got.size(), 10u);
    for (const auto& e : got) EXPECT_STREQ(e.correlation_id, make_id(3, 2).c_str());
    EXPECT_EQ(got.front().at_ms, kT + 47);
    EXPECT_EQ(got.back().at_ms, kT + 2);

    std::string upper = make_id(3, 4);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(t->recent_events(kT + 100, upper).size(), 10u);
    EXPECT_TRUE(t->recent_events(kT + 100, make_id(3, 9)).empty());
    EXPECT_TRUE(t->recent_events(kT + 100, "not-an-id").empty());
    EXPECT_TRUE(t->recent_events(kT + 100, "c0ffee").empty());
}

TEST_F(TelemetryTest, NoFreeTextCanReachTheFile) {
    auto t = open_shared();
    CallEvent e = event(kT, "");
    std::snprintf(e.correlation_id, sizeof(e.correlation_id), "%s", "203.0.113.9 Mozilla/5");
    ASSERT_TRUE(t->record_call(e));
    auto got = t->recent_events(kT + 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_STREQ(got[0].correlation_id, "");  // stored as "no id"
    EXPECT_TRUE(t->recent_events(kT + 1, "203.0.113.9 Mozilla/5").empty());
    t.reset();
    std::ifstream in(path_, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("203.0.113"), std::string::npos);
    EXPECT_EQ(bytes.find("Mozilla"), std::string::npos);
}

TEST_F(TelemetryTest, MinuteRolloverAndAggregates) {
    auto t = open_shared();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(t->record_call(event(kT + 1000 * i, make_id(4, 1), 2000, 4)));
    CallEvent e = event(kT + kMin + 5, make_id(4, 2), 3000, 10);
    e.fresh = 2;
    e.stale = 3;
    e.refreshed = 4;
    e.missing = 1;
    ASSERT_TRUE(t->record_call(e));
    ASSERT_TRUE(t->record_call(event(kT + kMin + 59999, make_id(4, 3), 3000, 0)));

    auto m = t->minutes(kT + kMin + 100, 3);
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0].minute_start, kT + kMin);
    EXPECT_EQ(m[1].minute_start, kT);
    EXPECT_EQ(m[2].minute_start, kT - kMin);
    EXPECT_EQ(m[1].calls, 10u);
    EXPECT_EQ(m[1].ids, 40u);
    EXPECT_EQ(m[1].fresh, 30u);
    EXPECT_EQ(m[1].refreshed, 10u);
    EXPECT_DOUBLE_EQ(m[1].cache_hit_ratio(), 0.75);
    EXPECT_EQ(m[1].latency_count, 10u);
    EXPECT_EQ(m[1].latency_sum_us, 20000u);
    EXPECT_EQ(m[0].calls, 2u);
    EXPECT_EQ(m[0].ids, 10u);
    EXPECT_EQ(m[0].fresh, 2u);
    EXPECT_EQ(m[0].stale, 3u);
    EXPECT_EQ(m[0].refreshed, 4u);
    EXPECT_EQ(m[0].missing, 1u);
    EXPECT_DOUBLE_EQ(m[0].cache_hit_ratio(), 0.2);
    EXPECT_EQ(m[2].calls, 0u);
    EXPECT_EQ(m[2].p50_ms, 0.0);

    auto w = t->window(kT + kMin + 100, 2);
    EXPECT_EQ(w.minute_start, kT);
    EXPECT_EQ(w.calls, 12u);
    EXPECT_EQ(w.ids, 50u);

    // 60 minutes later the slot of kT is reused: the old minute is gone, not added to.
    ASSERT_TRUE(t->record_call(event(kT + 60 * kMin + 1, make_id(4, 4))));
    auto later = t->minutes(kT + 60 * kMin + 2, 60);
    ASSERT_EQ(later.size(), 60u);
    EXPECT_EQ(later[0].calls, 1u);
    EXPECT_EQ(later[59].minute_start, kT + kMin);
    EXPECT_EQ(later[59].calls, 2u);
    EXPECT_EQ(t->minutes(kT + kMin, 1)[0].calls, 2u);  // kT + 1 min is still there, kT was overwritten
    EXPECT_EQ(t->minutes(kT, 1)[0].calls, 0u);
    EXPECT_EQ(t->minutes(kT, 500).size(), 60u);
    EXPECT_TRUE(t->minutes(kT, 0).empty());
}

TEST_F(TelemetryTest, PercentilesComeFromTheHistogram) {
    auto t = open_shared();
    // 1,000 latencies uniform over 1..100 ms.
    for (int i = 0; i < 1000; ++i) {
        const auto us = static_cast<uint32_t>(1000 + (99000LL * i) / 999);
        ASSERT_TRUE(t->record_call(event(kT + i, make_id(5, 1), us)));
    }
    const MinuteStats m = t->minutes(kT + 5000, 1)[0];
    EXPECT_EQ(m.latency_count, 1000u);
    EXPECT_NEAR(m.p50_ms, 50.5, bucket_width_ms(50.5)) << m.p50_ms;
    EXPECT_NEAR(m.p95_ms, 95.05, bucket_width_ms(95.05)) << m.p95_ms;
    EXPECT_NEAR(m.p99_ms, 99.01, bucket_width_ms(99.01)) << m.p99_ms;
    EXPECT_LT(m.p50_ms, m.p95_ms);
    EXPECT_LE(m.p95_ms, m.p99_ms);

    // A real histogram, not an average: 98 calls at 2 ms and 2 at 20 s.
    for (int i = 0; i < 98; ++i) ASSERT_TRUE(t->record_call(event(kT + kMin + i, make_id(5, 2), 2000)));
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(t->record_call(event(kT + kMin + 500 + i, make_id(5, 3), 20000000)));
    const MinuteStats s = t->minutes(kT + kMin + 5000, 1)[0];
    EXPECT_NEAR(s.p50_ms, 2.0, bucket_width_ms(2.0));
    EXPECT_NEAR(s.p95_ms, 2.0, bucket_width_ms(2.0));
    EXPECT_NEAR(s.p99_ms, 20000.0, bucket_width_ms(20000.0));
    // Beyond 30 s: reported as the last bound.
    ASSERT_TRUE(t->record_call(event(kT + 2 * kMin, make_id(5, 4), 4000000000u)));
    EXPECT_DOUBLE_EQ(t->minutes(kT + 2 * kMin, 1)[0].p99_ms, 30000.0);

    const auto& b = Telemetry::latency_bucket_bounds_us();
    EXPECT_DOUBLE_EQ(b.front(), 1.0);
    EXPECT_DOUBLE_EQ(b.back(), 30e6);
    for (std::size_t i = 1; i < b.size(); ++i) EXPECT_LE(b[i] / b[i - 1], 1.34);
}

TEST_F(TelemetryTest, UpstreamErrorClassesQuotaAndLastUpstream) {
    auto t = open_shared();
    EXPECT_EQ(t->last_upstream().success_at_ms, 0);
    EXPECT_EQ(t->last_upstream().error_at_ms, 0);
    ASSERT_TRUE(t->record_upstream(kT + 1, ErrorClass::none, 1));
    ASSERT_TRUE(t->record_upstream(kT + 2, ErrorClass::quota, 1));
    ASSERT_TRUE(t->record_upstream(kT + 3, ErrorClass::server, 1));
    ASSERT_TRUE(t->record_upstream(kT + 4, ErrorClass::server, 1));
    ASSERT_TRUE(t->record_upstream(kT + 5, ErrorClass::rate_limited, 1));
    ASSERT_TRUE(t->record_upstream(kT + 6, ErrorClass::network, 0));
    ASSERT_TRUE(t->record_upstream(kT + 7, ErrorClass::none, -5));  // negative: counts as 0
    ASSERT_TRUE(t->record_upstream(kT + 8, ErrorClass::malformed, 1));

    const MinuteStats m = t->minutes(kT + 10, 1)[0];
    EXPECT_EQ(m.upstream_calls, 8u);
    EXPECT_EQ(m.quota_units, 6u);
    EXPECT_EQ(m.upstream_errors[static_cast<std::size_t>(ErrorClass::none)], 0u);
    EXPECT_EQ(m.upstream_errors[static_cast<std::size_t>(ErrorClass::quota)], 1u);
    EXPECT_EQ(m.upstream_errors[static_cast<std::size_t>(ErrorClass::server)], 2u);
    EXPECT_EQ(m.upstream_errors[static_cast<std::size_t>(ErrorClass::rate_limited)], 1u);
    EXPECT_EQ(m.upstream_errors[static_cast<std::size_t>(ErrorClass::network)], 1u);
    EXPECT_EQ(m.upstream_errors[static_cast<std::size_t>(ErrorClass::malformed)], 1u);
    EXPECT_EQ(m.upstream_errors[static_cast<std::size_t>(ErrorClass::timeout)], 0u);
    EXPECT_EQ(m.calls, 0u);  // upstream requests are not fetch calls

    // Host-wide: another open sees the same last upstream.
    auto other = open_shared();
    const auto last = other->last_upstream();
    EXPECT_EQ(last.success_at_ms, kT + 7);
    EXPECT_EQ(last.error_at_ms, kT + 8);
    EXPECT_EQ(last.error_class, ErrorClass::malformed);

    const std::string text = t->prometheus_text(kT + 10);
    EXPECT_NE(text.find("vault_metadata_upstream_errors_total{class=\"server\"} 2\n"), std::string::npos) << text;
    EXPECT_NE(text.find("vault_metadata_quota_units_total 6\n"), std::string::npos);
    EXPECT_NE(text.find("vault_metadata_upstream_requests_total 8\n"), std::string::npos);
}

// ---- Prometheus exposition --------------------------------------------------------------------------------

struct Sample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
    int64_t timestamp = -1;  // -1: none
};

bool is_name(std::string_view s, bool colon_allowed) {
    if (s.empty()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                        (colon_allowed && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

bool parse_value(const std::string& v, double* out) {
    if (v == "NaN") {
        *out = std::nan("");
    } else if (v == "+Inf") {
        *out = HUGE_VAL;
    } else if (v == "-Inf") {
        *out = -HUGE_VAL;
    } else {
        if (v.empty()) return false;
        char* end = nullptr;
        *out = std::strtod(v.c_str(), &end);
        return end && *end == '\0';
    }
    return true;
}

// `name{label="value",...} value [timestamp]`, strictly (text format 0.0.4; escapes \\ \" \n).
bool parse_sample_line(const std::string& line, bool timestamp_allowed, Sample* s) {
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s->name = line.substr(0, i);
    if (!is_name(s->name, true)) return false;
    if (i < line.size() && line[i] == '{') {
        ++i;
        while (i < line.size() && line[i] != '}') {
            const std::size_t eq = line.find('=', i);
            if (eq == std::string::npos) return false;
            const std::string label = line.substr(i, eq - i);
            if (!is_name(label, false) || s->labels.count(label)) return false;
            i = eq + 1;
            if (i >= line.size() || line[i] != '"') return false;
            ++i;
            std::string value;
            for (;; ++i) {
                if (i >= line.size()) return false;
                if (line[i] == '"') break;
                if (line[i] == '\\') {
                    if (++i >= line.size()) return false;
                    if (line[i] == 'n') value += '\n';
                    else if (line[i] == '\\' || line[i] == '"') value += line[i];
                    else return false;
                } else {
                    value += line[i];
                }
            }
            ++i;  // the closing quote
            s->labels[label] = value;
            if (i < line.size() && line[i] == ',') ++i;
            else if (i >= line.size() || line[i] != '}') return false;
        }
        if (i >= line.size()) return false;
        ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') return false;
    ++i;
    const std::size_t space = line.find(' ', i);
    if (!parse_value(line.substr(i, space == std::string::npos ? std::string::npos : space - i), &s->value)) {
        return false;
    }
    if (space == std::string::npos) return true;
    if (!timestamp_allowed) return false;
    const std::string ts = line.substr(space + 1);
    if (ts.empty() || ts.find_first_not_of("0123456789") != std::string::npos) return false;
    s->timestamp = std::stoll(ts);
    return true;
}

// A strict reading of text format 0.0.4: every sample has a preceding TYPE for its family, families are
// contiguous, names and labels are well-formed, values parse, histograms are cumulative and end at +Inf.
std::vector<Sample> parse_exposition(const std::string& text) {
    static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};
    std::map<std::string, std::string> types;
    std::set<std::string> finished;
    std::string current;
    std::vector<Sample> out;
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("# HELP ", 0) == 0) {
            const std::size_t sp = line.find(' ', 7);
            EXPECT_TRUE(sp != std::string::npos && is_name(line.substr(7, sp - 7), true) && sp + 1 < line.size())
                << line;
            continue;
        }
        if (line.rfind("# TYPE ", 0) == 0) {
            const std::size_t sp = line.find(' ', 7);
            const std::string name = sp == std::string::npos ? "" : line.substr(7, sp - 7);
            const std::string type = sp == std::string::npos ? "" : line.substr(sp + 1);
            EXPECT_TRUE(is_name(name, true) && kTypes.count(type)) << line;
            EXPECT_EQ(types.count(name), 0u) << "duplicate TYPE " << line;
            types[name] = type;
            continue;
        }
        EXPECT_NE(line.rfind("#", 0), 0u) << "stray comment " << line;
        Sample s;
        if (!parse_sample_line(line, false, &s)) {
            ADD_FAILURE() << "malformed sample line: " << line;
            continue;
        }
        // The family: the name itself, or a histogram/summary base for _bucket/_sum/_count.
        std::string fam;
        if (types.count(s.name)) {
            fam = s.name;
            const std::string& type = types[fam];
            if (type == "histogram") ADD_FAILURE() << "histogram sample without suffix " << line;
            if (type == "counter") {
                EXPECT_TRUE(s.name.size() > 6 && s.name.ends_with("_total")) << line;
            }
            if (type == "summary") {
                EXPECT_EQ(s.labels.count("quantile"), 1u) << line;
            }
        } else {
            for (const char* suffix : {"_bucket", "_sum", "_count"}) {
                const std::string sfx = suffix;
                if (s.name.ends_with(sfx)) {
                    const std::string base = s.name.substr(0, s.name.size() - sfx.size());
                    if (types.count(base) && (types[base] == "histogram" || types[base] == "summary")) {
                        fam = base;
                        if (sfx == "_bucket") {
                            EXPECT_EQ(types[base], "histogram") << line;
                            EXPECT_EQ(s.labels.count("le"), 1u) << line;
                        }
                    }
                }
            }
        }
        EXPECT_FALSE(fam.empty()) << "sample without a preceding TYPE: " << line;
        if (fam != current) {
            EXPECT_EQ(finished.count(fam), 0u) << "family not contiguous: " << line;
            if (!current.empty()) finished.insert(current);
            current = fam;
        }
        out.push_back(s);
    }
    // Histograms: le increasing, counts cumulative, last +Inf equal to _count.
    for (const auto& [fam, type] : types) {
        if (type != "histogram") continue;
        double last_le = -HUGE_VAL, last_count = -1, inf_count = -1, count = -1;
        bool saw_inf = false;
        for (const auto& s : out) {
            if (s.name == fam + "_bucket") {
                EXPECT_FALSE(saw_inf) << "bucket after +Inf in " << fam;
                const std::string le = s.labels.at("le");
                const double le_v = le == "+Inf" ? HUGE_VAL : std::strtod(le.c_str(), nullptr);
                EXPECT_GT(le_v, last_le) << fam << " le=" << le;
                EXPECT_GE(s.value, last_count) << fam << " le=" << le;
                last_le = le_v;
                last_count = s.value;
                if (le == "+Inf") {
                    saw_inf = true;
                    inf_count = s.value;
                }
            }
            if (s.name == fam + "_count") count = s.value;
        }
        EXPECT_TRUE(saw_inf) << fam;
        EXPECT_EQ(inf_count, count) << fam;
    }
    return out;
}

const Sample* find(const std::vector<Sample>& samples, const std::string& name,
                   const std::map<std::string, std::string>& labels = {}) {
    for (const auto& s : samples) {
        if (s.name == name && s.labels == labels) return &s;
    }
    return nullptr;
}

TEST(TelemetryExpositionChecker, RejectsMalformedLines) {
    Sample s;
    EXPECT_TRUE(parse_sample_line("a_b:c{x=\"1\",y=\"q\\\"\"} 1.5e-3", false, &s));
    EXPECT_EQ(s.labels["y"], "q\"");
    for (const char* bad : {"1abc 1", "a{x=1} 1", "a{x=\"1\" 1", "a 1 2", "a  1", "a{x=\"1\",x=\"2\"} 1", "a 1e",
                            "a{9=\"1\"} 1", "a", "a{x=\"\\q\"} 1"}) {
        Sample b;
        EXPECT_FALSE(parse_sample_line(bad, false, &b)) << bad;
    }
    Sample t;
    EXPECT_TRUE(parse_sample_line("a 1 1751612400000", true, &t));
    EXPECT_EQ(t.timestamp, 1751612400000);
}

TEST_F(TelemetryTest, PrometheusTextIsWellFormed) {
    auto t = open_shared();
    // Empty first: still valid (NaN quantiles and ratios).
    parse_exposition(t->prometheus_text(kT));

    for (int i = 0; i < 100; ++i) {
        CallEvent e = event(kT + i, make_id(6, static_cast<unsigned>(i)), static_cast<uint32_t>(100 + 1000 * i), 2);
        e.kind = i % 3 == 0 ? CallKind::fetch_batch : CallKind::fetch_batch_detailed;
        ASSERT_TRUE(t->record_call(e));
    }
    ASSERT_TRUE(t->record_upstream(kT + 1, ErrorClass::forbidden, 1));
    ASSERT_TRUE(t->record_call(event(kT + kMin + 1, make_id(6, 999), 50000000u)));  // > 30 s: +Inf only
    const auto samples = parse_exposition(t->prometheus_text(kT + kMin + 200));

    const Sample* count = find(samples, "vault_metadata_call_latency_seconds_count");
    ASSERT_NE(count, nullptr);
    EXPECT_EQ(count->value, 101);
    const Sample* inf = find(samples, "vault_metadata_call_latency_seconds_bucket", {{"le", "+Inf"}});
    ASSERT_NE(inf, nullptr);
    EXPECT_EQ(inf->value, 101);
    const Sample* le25 = find(samples, "vault_metadata_call_latency_seconds_bucket", {{"le", "25"}});
    ASSERT_NE(le25, nullptr);
    EXPECT_EQ(le25->value, 100);
    const Sample* ms50 = find(samples, "vault_metadata_call_latency_seconds_bucket", {{"le", "0.05"}});
    ASSERT_NE(ms50, nullptr);
    EXPECT_EQ(ms50->value, 50);  // 100 + 1000 i µs <= 50 ms for i = 0..49
    EXPECT_EQ(find(samples, "vault_metadata_calls_total", {{"function", "fetch_batch"}})->value, 34);
    EXPECT_EQ(find(samples, "vault_metadata_calls_total", {{"function", "fetch_batch_detailed"}})->value, 67);
    EXPECT_EQ(find(samples, "vault_metadata_calls_total", {{"function", "prefetch"}})->value, 0);
    EXPECT_EQ(find(samples, "vault_metadata_upstream_errors_total", {{"class", "forbidden"}})->value, 1);
    EXPECT_EQ(find(samples, "vault_metadata_call_latency_last_minute_seconds_count")->value, 100);
    const Sample* p50 = find(samples, "vault_metadata_call_latency_last_minute_seconds", {{"quantile", "0.5"}});
    ASSERT_NE(p50, nullptr);
    EXPECT_NEAR(p50->value, 0.0501, bucket_width_ms(50.1) / 1000.0);
    EXPECT_EQ(find(samples, "vault_metadata_cache_hit_ratio", {{"window", "1m"}})->value, 0.5);
    EXPECT_EQ(find(samples, "vault_metadata_recent_events")->value, 1);  // the others are 60 s old
    EXPECT_EQ(find(samples, "vault_metadata_telemetry_shared")->value, 1);
    for (const auto& s : samples) EXPECT_EQ(s.name.rfind("vault_metadata_", 0), 0u) << s.name;
}

TEST_F(TelemetryTest, ImportLinesGiveTheValuesOfMinutes) {
    auto t = open_shared();
    for (int minute = 0; minute < 3; ++minute) {
        for (int i = 0; i <= minute * 10; ++i) {
            ASSERT_TRUE(t->record_call(
                event(kT + minute * kMin + i, make_id(7, 1), static_cast<uint32_t>(1000 * (i + 1)), 5)));
        }
        ASSERT_TRUE(t->record_upstream(kT + minute * kMin, minute == 1 ? ErrorClass::quota : ErrorClass::none, 1));
    }
    const int64_t now = kT + 2 * kMin + 30000;  // minute 2 is not complete: not exported
    const std::string lines = t->prometheus_import_lines(now, kT);
    std::map<int64_t, std::map<std::string, double>> got;
    std::istringstream in(lines);
    std::string line;
    while (std::getline(in, line)) {
        Sample smp;
        ASSERT_TRUE(parse_sample_line(line, true, &smp)) << line;
        ASSERT_EQ(smp.name.rfind("vault_metadata_minute_", 0), 0u) << line;
        ASSERT_GE(smp.timestamp, 0) << line;
        std::string key = smp.name;
        if (smp.labels.count("class")) key += ":" + smp.labels["class"];
        ASSERT_LE(smp.labels.size(), key == smp.name ? 0u : 1u) << line;
        got[smp.timestamp][key] = smp.value;
    }
    ASSERT_EQ(got.size(), 2u) << lines;
    ASSERT_TRUE(got.count(kT));
    ASSERT_TRUE(got.count(kT + kMin));
    const auto ms = t->minutes(now, 3);
    for (int k = 1; k <= 2; ++k) {
        const MinuteStats& s = ms[static_cast<std::size_t>(k)];
        auto& g = got[s.minute_start];
        EXPECT_EQ(g["vault_metadata_minute_calls"], static_cast<double>(s.calls));
        EXPECT_EQ(g["vault_metadata_minute_ids"], static_cast<double>(s.ids));
        EXPECT_EQ(g["vault_metadata_minute_fresh"], static_cast<double>(s.fresh));
        EXPECT_EQ(g["vault_metadata_minute_refreshed"], static_cast<double>(s.refreshed));
        EXPECT_EQ(g["vault_metadata_minute_upstream_calls"], static_cast<double>(s.upstream_calls));
        EXPECT_EQ(g["vault_metadata_minute_quota_units"], static_cast<double>(s.quota_units));
        EXPECT_EQ(g["vault_metadata_minute_upstream_errors:quota"],
                  static_cast<double>(s.upstream_errors[static_cast<std::size_t>(ErrorClass::quota)]));
        EXPECT_EQ(g["vault_metadata_minute_latency_p50_ms"], s.p50_ms);  // exact: shortest round-trip text
        EXPECT_EQ(g["vault_metadata_minute_latency_p99_ms"], s.p99_ms);
        EXPECT_EQ(g["vault_metadata_minute_cache_hit_ratio"], s.cache_hit_ratio());
        EXPECT_EQ(g.size(), 9u + 8u + 4u);
    }
    EXPECT_EQ(got[kT + kMin]["vault_metadata_minute_calls"], 11);
    EXPECT_EQ(got[kT + kMin]["vault_metadata_minute_upstream_errors:quota"], 1);
    // since_minute_ms filters; nothing completed: nothing.
    EXPECT_EQ(t->prometheus_import_lines(now, kT + kMin).find(" " + std::to_string(kT) + "\n"), std::string::npos);
    EXPECT_TRUE(t->prometheus_import_lines(now, kT + 2 * kMin).empty());
}

// ---- Files and processes ------------------------------------------------------------------------------------

TEST_F(TelemetryTest, FallsBackToPrivateMemoryWhenTheFileCannotBeOpened) {
    std::string error;
    auto t = Telemetry::open(dir_ + "/no/such/dir/telemetry.bin", &error);
    ASSERT_NE(t, nullptr);
    EXPECT_FALSE(t->shared());
    EXPECT_NE(error.find("in-process only"), std::string::npos) << error;
    ASSERT_TRUE(t->record_call(event(kT, make_id(8, 1))));
    EXPECT_EQ(t->recent_events(kT + 1).size(), 1u);
    EXPECT_EQ(t->minutes(kT, 1)[0].calls, 1u);
    const auto samples = parse_exposition(t->prometheus_text(kT));
    EXPECT_EQ(find(samples, "vault_metadata_telemetry_shared")->value, 0);
    auto p = Telemetry::open("", &error);
    ASSERT_NE(p, nullptr);
    EXPECT_FALSE(p->shared());
}

TEST_F(TelemetryTest, CorruptOrShortFileIsReinitialised) {
    auto write_file = [&](const std::string& bytes) {
        std::ofstream out(path_, std::ios::binary | std::ios::trunc);
        out << bytes;
    };
    auto file_size = [&] { return std::filesystem::file_size(path_); };
    {
        auto t = open_shared();
        ASSERT_TRUE(t->record_call(event(kT, make_id(9, 1))));
    }
    const auto full = file_size();
    {
        auto t = open_shared();  // valid: kept
        EXPECT_FALSE(t->initialised_file());
        EXPECT_EQ(t->recent_events(kT + 1).size(), 1u);
    }
    // Wrong magic, same size.
    {
        std::fstream f(path_, std::ios::binary | std::ios::in | std::ios::out);
        f.seekp(0);
        f.write("garbage!", 8);
    }
    {
        auto t = open_shared();
        EXPECT_TRUE(t->initialised_file());
        EXPECT_TRUE(t->recent_events(kT + 1).empty());
        EXPECT_EQ(t->minutes(kT, 1)[0].calls, 0u);
        ASSERT_TRUE(t->record_call(event(kT, make_id(9, 2))));
    }
    // Wrong version.
    {
        std::fstream f(path_, std::ios::binary | std::ios::in | std::ios::out);
        f.seekp(8);
        const uint32_t v = 999;
        f.write(reinterpret_cast<const char*>(&v), sizeof(v));
    }
    {
        auto t = open_shared();
        EXPECT_TRUE(t->initialised_file());
        EXPECT_TRUE(t->recent_events(kT + 1).empty());
    }
    // Short file of garbage, and an empty one.
    write_file(std::string(100, '\xAB'));
    {
        auto t = open_shared();
        EXPECT_TRUE(t->initialised_file());
        EXPECT_EQ(file_size(), full);
        EXPECT_TRUE(t->recent_events(kT + 1).empty());
        EXPECT_EQ(t->minutes(kT, 1)[0].calls, 0u);
        ASSERT_TRUE(t->record_call(event(kT, make_id(9, 3))));
        EXPECT_EQ(t->recent_events(kT + 1).size(), 1u);
    }
    write_file("");
    {
        auto t = open_shared();
        EXPECT_TRUE(t->initialised_file());
        EXPECT_TRUE(t->recent_events(kT + 1).empty());
    }
    // Too long (same header, bytes appended): truncated back to size.
    {
        std::ofstream out(path_, std::ios::binary | std::ios::app);
        out << std::string(4096, 'x');
    }
    {
        auto t = open_shared();
        EXPECT_EQ(file_size(), full);
    }
}

TEST_F(TelemetryTest, EightProcessesRecordConcurrentlyIntoOneHostWideView) {
    auto t = open_shared();
    ASSERT_TRUE(t);
    int gate[2];
    ASSERT_EQ(pipe(gate), 0);
    std::vector<pid_t> children;
    for (unsigned c = 0; c < 8; ++c) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            close(gate[1]);
            char x;
            (void)!read(gate[0], &x, 1);  // returns 0 when the parent closes the gate: all start together
            // Even children use the inherited object (the mapping survives fork); odd ones open their own.
            std::unique_ptr<Telemetry> own;
            Telemetry* use = t.get();
            if (c % 2) {
                own = Telemetry::open(path_, nullptr);
                if (!own || !own->shared()) _exit(2);
                use = own.get();
            }
            for (unsigned j = 0; j < 1000; ++j) {
                if (!use->record_call(event(kT + j % 1000, make_id(c, j), 100 + j, 2))) _exit(3);
                if (j % 100 == 0) use->record_upstream(kT + j, ErrorClass::none, 1);
            }
            _exit(0);
        }
        children.push_back(pid);
    }
    close(gate[0]);
    close(gate[1]);
    for (pid_t pid : children) EXPECT_EQ(reap(pid), 0);

    const MinuteStats m = t->minutes(kT + 59000, 1)[0];
    EXPECT_EQ(m.calls, 8000u);
    EXPECT_EQ(m.ids, 16000u);
    EXPECT_EQ(m.latency_count, 8000u);
    EXPECT_EQ(m.upstream_calls, 80u);
    EXPECT_EQ(m.quota_units, 80u);
    EXPECT_EQ(t->recent_events(kT + 1000).size(), 8000u);
    // A fresh process-level view (as the operator's CLI) finds any child's correlation id.
    auto cli = open_shared();
    for (unsigned c = 0; c < 8; ++c) {
        const auto found = cli->recent_events(kT + 1000, make_id(c, 777));
        ASSERT_EQ(found.size(), 1u) << c;
        EXPECT_EQ(found[0].pid, children[c]);
        EXPECT_EQ(found[0].latency_us, 877u);
    }
    EXPECT_EQ(cli->dropped_records(), 0u);
}

TEST_F(TelemetryTest, ALockHolderKilledDoesNotDeadlockOthers) {
    auto t = open_shared();
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        close(ready[0]);
        auto own = Telemetry::open(path_, nullptr);
        if (!own || !TelemetryTesting::lock_and_hold(*own)) _exit(2);
        (void)!write(ready[1], "x", 1);
        for (;;) pause();
    }
    close(ready[1]);
    char x;
    ASSERT_EQ(read(ready[0], &x, 1), 1);
    close(ready[0]);

    // While the holder lives (say, SIGSTOPped), a writer waits a bounded time and drops its record.
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(t->record_call(event(kT, make_id(10, 1))));
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(waited, std::chrono::milliseconds(200));
    EXPECT_LT(waited, std::chrono::milliseconds(1500));
    EXPECT_EQ(t->dropped_records(), 1u);

    ASSERT_EQ(kill(pid, SIGKILL), 0);
    EXPECT_EQ(reap(pid), -SIGKILL);
    const auto t1 = std::chrono::steady_clock::now();
    ASSERT_TRUE(t->record_call(event(kT, make_id(10, 2))));
    EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(200));
    EXPECT_EQ(t->lock_recoveries(), 1u);
    EXPECT_EQ(t->recent_events(kT + 1).size(), 1u);
    EXPECT_EQ(t->minutes(kT, 1)[0].calls, 1u);
    // And it keeps working, from other processes too.
    auto other = open_shared();
    ASSERT_TRUE(other->record_call(event(kT + 1, make_id(10, 3))));
    EXPECT_EQ(t->minutes(kT, 1)[0].calls, 2u);
}

TEST_F(TelemetryTest, WritersKilledAtRandomMomentsLeaveNoDeadlockNorTornEvents) {
    auto t = open_shared();
    auto spawn = [&](unsigned c) {
        const pid_t pid = fork();
        if (pid == 0) {
            for (unsigned long long j = 0;; ++j) {
                CallEvent e = event(kT + static_cast<int64_t>(j % 50000), make_id(c, j), 4242, 5);
                e.upstream_error = ErrorClass::server;
                t->record_call(e);
                if (j % 7 == 0) t->record_upstream(kT, ErrorClass::timeout, 1);
            }
        }
        return pid;
    };
    std::vector<pid_t> kids;
    for (unsigned c = 0; c < 4; ++c) kids.push_back(spawn(c));
    for (pid_t k : kids) ASSERT_GT(k, 0);
    std::mt19937 rng(12345);
    for (int round = 0; round < 40; ++round) {
        usleep(static_cast<useconds_t>(500 + rng() % 2500));
        const std::size_t victim = rng() % kids.size();
        ASSERT_GT(kids[victim], 0);
        kill(kids[victim], SIGKILL);
        EXPECT_EQ(reap(kids[victim]), -SIGKILL);
        kids[victim] = spawn(static_cast<unsigned>(40 + round));
        ASSERT_GT(kids[victim], 0);
    }
    for (pid_t k : kids) {
        if (k <= 0) continue;
        kill(k, SIGKILL);
        reap(k);
    }
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(t->record_call(event(kT + 50001, make_id(99, 1), 4242, 5)));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
    // Every visible event is whole: a writer killed half-way left nothing readable.
    const auto events = t->recent_events(kT + 50001);
    EXPECT_GT(events.size(), 100u);
    for (const auto& e : events) {
        ASSERT_EQ(e.ids, 5u);
        ASSERT_EQ(e.fresh, 4u);
        ASSERT_EQ(e.refreshed, 1u);
        ASSERT_EQ(e.latency_us, 4242u);
        ASSERT_EQ(std::strlen(e.correlation_id), 24u);
    }
    std::printf("[ info ] %zu events visible, %llu lock recoveries\n", events.size(),
                static_cast<unsigned long long>(t->lock_recoveries()));
}

TEST_F(TelemetryTest, TwentyProcessesOpenAFreshFileAtTheSameMoment) {
    int gate[2];
    ASSERT_EQ(pipe(gate), 0);
    std::vector<pid_t> kids;
    for (unsigned c = 0; c < 20; ++c) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            close(gate[1]);
            char x;
            (void)!read(gate[0], &x, 1);
            auto t = Telemetry::open(path_, nullptr);
            if (!t || !t->shared()) _exit(2);
            if (!t->record_call(event(kT + c, make_id(c, 20)))) _exit(3);
            _exit(t->initialised_file() ? 10 : 0);
        }
        kids.push_back(pid);
    }
    close(gate[0]);
    close(gate[1]);
    int initialisers = 0;
    for (pid_t k : kids) {
        const int rc = reap(k);
        EXPECT_TRUE(rc == 0 || rc == 10) << rc;
        if (rc == 10) ++initialisers;
    }
    EXPECT_EQ(initialisers, 1);
    auto t = open_shared();
    EXPECT_FALSE(t->initialised_file());
    EXPECT_EQ(t->minutes(kT, 1)[0].calls, 20u);
    for (unsigned c = 0; c < 20; ++c) EXPECT_EQ(t->recent_events(kT + 100, make_id(c, 20)).size(), 1u) << c;
}

}  // namespace
}  // namespace vault_metadata
