#include "quota_ledger.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "pacific_time.h"

namespace vault_metadata {
namespace {

constexpr int64_t kMidnight = 1751612400;              // 2025-07-04 00:00 PDT
constexpr int64_t kNoon = kMidnight + 12 * 3600;       // 2025-07-04 12:00 PDT
constexpr int64_t kNextMidnight = kMidnight + 86400;   // 2025-07-05 00:00 PDT

class QuotaLedgerTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "quota_ledger_test.XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        path_ = dir_ + "/quota.sqlite";
    }
    void TearDown() override {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    std::unique_ptr<QuotaLedger> open_ledger() {
        std::string error;
        auto ledger = QuotaLedger::open(path_, &error);
        EXPECT_NE(ledger, nullptr) << error;
        return ledger;
    }

    // A second, plain connection, to look at the file or break it behind the ledger's back.
    void raw_exec(const std::string& sql) {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        char* message = nullptr;
        EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK) << (message ? message : "");
        sqlite3_free(message);
        sqlite3_close(db);
    }
    std::string raw_text(const std::string& sql) {
        sqlite3* db = nullptr;
        std::string out;
        if (sqlite3_open(path_.c_str(), &db) == SQLITE_OK) {
            sqlite3_stmt* stmt = nullptr;
            if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
                if (const unsigned char* text = sqlite3_column_text(stmt, 0)) out = reinterpret_cast<const char*>(text);
            }
            sqlite3_finalize(stmt);
        }
        sqlite3_close(db);
        return out;
    }

    std::string dir_;
    std::string path_;
};

TEST_F(QuotaLedgerTest, EmptyLedgerStatus) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    const QuotaStatus s = ledger->status(10000, kNoon);
    EXPECT_TRUE(s.ok);
    EXPECT_EQ(s.limit, 10000);
    EXPECT_EQ(s.used, 0);
    EXPECT_EQ(s.remaining, 10000);
    EXPECT_EQ(s.resets_at, kNextMidnight);
    EXPECT_FALSE(s.exhausted);
    EXPECT_EQ(raw_text("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(raw_text("PRAGMA user_version"), "1");
}

TEST_F(QuotaLedgerTest, ReservesUpToTheLimit) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(ledger->reserve(1, 3, kNoon + i), 1);
    EXPECT_EQ(ledger->reserve(1, 3, kNoon), 0);
    const QuotaStatus s = ledger->status(3, kNoon);
    EXPECT_TRUE(s.ok);
    EXPECT_EQ(s.used, 3);
    EXPECT_EQ(s.remaining, 0);
    EXPECT_TRUE(s.exhausted);
    // A larger limit (the INI changed) makes room again.
    EXPECT_EQ(ledger->reserve(5, 5, kNoon), 2);
}

TEST_F(QuotaLedgerTest, GrantsPartially) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    EXPECT_EQ(ledger->reserve(7, 10, kNoon), 7);
    EXPECT_EQ(ledger->reserve(5, 10, kNoon), 3);
    EXPECT_EQ(ledger->reserve(1, 10, kNoon), 0);
    EXPECT_EQ(ledger->status(10, kNoon).used, 10);
}

TEST_F(QuotaLedgerTest, NonPositiveRequestsGrantNothing) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    EXPECT_EQ(ledger->reserve(0, 10, kNoon), 0);
    EXPECT_EQ(ledger->reserve(-4, 10, kNoon), 0);
    EXPECT_EQ(ledger->reserve(4, 0, kNoon), 0);
    EXPECT_EQ(ledger->reserve(4, -1, kNoon), 0);
    EXPECT_TRUE(ledger->refund(-3, kNoon));
    EXPECT_EQ(ledger->status(10, kNoon).used, 0);
}

TEST_F(QuotaLedgerTest, RefundGivesBackButNeverBelowZero) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    ASSERT_EQ(ledger->reserve(5, 10, kNoon), 5);
    EXPECT_TRUE(ledger->refund(2, kNoon, kNoon + 1));
    EXPECT_EQ(ledger->status(10, kNoon).used, 3);
    EXPECT_TRUE(ledger->refund(1, kNoon + 2));
    EXPECT_EQ(ledger->status(10, kNoon).used, 2);
    EXPECT_TRUE(ledger->refund(100, kNoon + 3));
    EXPECT_EQ(ledger->status(10, kNoon).used, 0);
    EXPECT_EQ(ledger->status(10, kNoon).remaining, 10);
    EXPECT_EQ(ledger->reserve(12, 10, kNoon), 10);
}

TEST_F(QuotaLedgerTest, RefundAfterRolloverIsDropped) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    const int64_t late = kNextMidnight - 1;  // 23:59:59 on the first day
    ASSERT_EQ(ledger->reserve(5, 10, late), 5);
    ASSERT_EQ(ledger->reserve(4, 10, kNextMidnight + 1), 4);
    // The first reservation comes back after midnight: neither day changes.
    EXPECT_TRUE(ledger->refund(5, late, kNextMidnight + 2));
    EXPECT_EQ(ledger->status(10, late).used, 5);
    EXPECT_EQ(ledger->status(10, kNextMidnight + 3).used, 4);
    // A refund for a day without any reservation has nothing to give back.
    EXPECT_TRUE(ledger->refund(3, kNextMidnight + 86400 + 5));
    EXPECT_EQ(ledger->status(10, kNextMidnight + 86400 + 6).used, 0);
}

TEST_F(QuotaLedgerTest, ExhaustionMarkHoldsUntilPacificMidnight) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    ASSERT_EQ(ledger->reserve(2, 100, kNoon), 2);
    ASSERT_TRUE(ledger->mark_exhausted(kNoon + 10));
    EXPECT_EQ(ledger->reserve(1, 100, kNoon + 11), 0);
    EXPECT_EQ(ledger->reserve(1, 100, kNextMidnight - 1), 0);
    QuotaStatus s = ledger->status(100, kNoon + 12);
    EXPECT_TRUE(s.ok);
    EXPECT_TRUE(s.exhausted);
    EXPECT_EQ(s.used, 2);
    EXPECT_EQ(s.remaining, 0);
    EXPECT_EQ(s.resets_at, kNextMidnight);
    // A refund does not lift the mark.
    EXPECT_TRUE(ledger->refund(2, kNoon + 13));
    EXPECT_EQ(ledger->reserve(1, 100, kNoon + 14), 0);

    s = ledger->status(100, kNextMidnight);
    EXPECT_FALSE(s.exhausted);
    EXPECT_EQ(s.used, 0);
    EXPECT_EQ(s.remaining, 100);
    EXPECT_EQ(s.resets_at, kNextMidnight + 86400);
    EXPECT_EQ(ledger->reserve(1, 100, kNextMidnight), 1);
}

TEST_F(QuotaLedgerTest, ExhaustionMarkOnAFreshDay) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    ASSERT_TRUE(ledger->mark_exhausted(kNoon));
    EXPECT_EQ(ledger->reserve(1, 100, kNoon), 0);
    EXPECT_TRUE(ledger->status(100, kNoon).exhausted);
    EXPECT_EQ(ledger->status(100, kNoon).used, 0);
}

TEST_F(QuotaLedgerTest, DayFollowsPacificTimeAcrossDst) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    const int64_t before = 1730617200 + 3600;   // 2024-11-03 01:00 PDT, a 25-hour day
    const int64_t after = 1730707200 - 1;       // 2024-11-03 23:59:59 PST, same day
    ASSERT_EQ(ledger->reserve(3, 4, before), 3);
    EXPECT_EQ(ledger->reserve(3, 4, after), 1);
    const QuotaStatus s = ledger->status(4, after);
    EXPECT_EQ(s.used, 4);
    EXPECT_EQ(s.resets_at, 1730707200);
    EXPECT_EQ(ledger->reserve(3, 4, after + 1), 3);
}

TEST_F(QuotaLedgerTest, CountSurvivesReopenAndIsSharedBetweenConnections) {
    {
        auto ledger = open_ledger();
        ASSERT_NE(ledger, nullptr);
        ASSERT_EQ(ledger->reserve(6, 10, kNoon), 6);
    }
    auto first = open_ledger();
    auto second = open_ledger();
    ASSERT_NE(first, nullptr);
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(first->status(10, kNoon).used, 6);
    EXPECT_EQ(second->reserve(3, 10, kNoon), 3);
    EXPECT_EQ(first->reserve(3, 10, kNoon), 1);
    EXPECT_EQ(second->status(10, kNoon).used, 10);
}

TEST_F(QuotaLedgerTest, ThreadsShareOneLedgerSafely) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    constexpr int64_t kLimit = 200;
    std::atomic<int64_t> granted{0};
    std::atomic<bool> failed{false};
    std::atomic<bool> done{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            for (;;) {
                const int64_t got = ledger->reserve(1, kLimit, kNoon);
                if (got < 0) failed = true;
                if (got <= 0) return;
                granted += got;
            }
        });
    }
    std::thread reader([&] {
        while (!done) {
            const QuotaStatus s = ledger->status(kLimit, kNoon);
            if (!s.ok || s.used > kLimit) failed = true;
        }
    });
    for (auto& t : threads) t.join();
    done = true;
    reader.join();
    EXPECT_FALSE(failed);
    EXPECT_EQ(granted.load(), kLimit);
    EXPECT_EQ(ledger->status(kLimit, kNoon).used, kLimit);
}

// Twenty processes open the same new file at the same moment (so they also race the schema migration) and
// reserve one unit at a time until refused. Not one unit more than the limit may be granted.
TEST_F(QuotaLedgerTest, ConcurrentProcessesGrantExactlyTheLimit) {
    constexpr int kChildren = 20;
    constexpr int64_t kLimit = 37;
    int gate[2];
    ASSERT_EQ(pipe(gate), 0);
    std::vector<pid_t> children;
    for (int i = 0; i < kChildren; ++i) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            close(gate[1]);
            char byte;
            while (read(gate[0], &byte, 1) > 0) {
            }
            std::string error;
            auto ledger = QuotaLedger::open(path_, &error);
            if (ledger == nullptr) _exit(101);
            int total = 0;
            for (;;) {
                const int64_t got = ledger->reserve(1, kLimit, kNoon);
                if (got < 0) _exit(102);
                if (got == 0) break;
                total += static_cast<int>(got);
            }
            ledger.reset();
            _exit(total);
        }
        children.push_back(pid);
    }
    close(gate[0]);
    close(gate[1]);  // every child starts now

    int64_t sum = 0;
    for (const pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        const int code = WEXITSTATUS(status);
        ASSERT_LE(code, kLimit) << "child failed with " << code;
        sum += code;
    }
    EXPECT_EQ(sum, kLimit);
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    EXPECT_EQ(ledger->status(kLimit, kNoon).used, kLimit);
    EXPECT_EQ(raw_text("PRAGMA integrity_check"), "ok");
}

TEST_F(QuotaLedgerTest, ChildAbandonsTheInheritedLedger) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    ASSERT_EQ(ledger->reserve(3, 10, kNoon), 3);

    const pid_t abandoning = fork();
    ASSERT_GE(abandoning, 0);
    if (abandoning == 0) {
        ledger->abandon_after_fork();
        const bool refused = ledger->reserve(1, 10, kNoon) == -1 && !ledger->refund(1, kNoon) &&
                             !ledger->mark_exhausted(kNoon) && !ledger->status(10, kNoon).ok;
        ledger.reset();
        auto own = QuotaLedger::open(path_, nullptr);
        _exit(refused && own != nullptr && own->reserve(2, 10, kNoon) == 2 ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(abandoning, &status, 0), abandoning);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    // A child that forgets to abandon is caught by the pid check: no use, and no close in the destructor.
    const pid_t forgetful = fork();
    ASSERT_GE(forgetful, 0);
    if (forgetful == 0) {
        const bool refused = ledger->reserve(1, 10, kNoon) == -1 && !ledger->status(10, kNoon).ok;
        ledger.reset();
        _exit(refused ? 0 : 1);
    }
    ASSERT_EQ(waitpid(forgetful, &status, 0), forgetful);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    EXPECT_EQ(ledger->status(10, kNoon).used, 5);
    EXPECT_EQ(ledger->reserve(10, 10, kNoon), 5);
    EXPECT_EQ(raw_text("PRAGMA integrity_check"), "ok");
}

TEST_F(QuotaLedgerTest, WalStaysBoundedWithoutAutomaticCheckpoints) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    // 600 commits stay under SQLite's automatic threshold (1000 frames): only the ledger's own RESTART checkpoint
    // can keep the WAL this small.
    for (int i = 0; i < 300; ++i) {
        ASSERT_EQ(ledger->reserve(1, 1000, kNoon), 1);
        ASSERT_TRUE(ledger->refund(1, kNoon));
    }
    struct stat st {};
    ASSERT_EQ(stat((path_ + "-wal").c_str(), &st), 0);
    EXPECT_LT(st.st_size, 300 * (4096 + 24));
    EXPECT_EQ(ledger->status(1000, kNoon).used, 0);
    EXPECT_EQ(raw_text("PRAGMA integrity_check"), "ok");
}

TEST_F(QuotaLedgerTest, OpenFailsCleanlyInAMissingDirectory) {
    std::string error;
    const std::string missing = dir_ + "/no/such/dir/quota.sqlite";
    EXPECT_EQ(QuotaLedger::open(missing, &error), nullptr);
    EXPECT_NE(error.find(missing), std::string::npos) << error;
    EXPECT_EQ(QuotaLedger::open(missing, nullptr), nullptr);
    EXPECT_EQ(QuotaLedger::open("", &error), nullptr);
}

TEST_F(QuotaLedgerTest, OpenRejectsAFileThatIsNotSqlite) {
    const std::string long_text(8192, 'x');
    for (const std::string& content : {std::string("not a database\n"), long_text}) {
        {
            std::ofstream out(path_, std::ios::binary | std::ios::trunc);
            out << content;
        }
        std::string error;
        EXPECT_EQ(QuotaLedger::open(path_, &error), nullptr);
        EXPECT_NE(error.find("not a database"), std::string::npos) << error;
        std::ifstream in(path_, std::ios::binary);
        const std::string after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_EQ(after, content) << "the foreign file must be left untouched";
    }
}

TEST_F(QuotaLedgerTest, OpenRefusesASchemaFromANewerBuild) {
    { ASSERT_NE(open_ledger(), nullptr); }
    raw_exec("PRAGMA user_version=99");
    std::string error;
    EXPECT_EQ(QuotaLedger::open(path_, &error), nullptr);
    EXPECT_NE(error.find("newer"), std::string::npos) << error;
}

TEST_F(QuotaLedgerTest, DatabaseErrorsAreReportedNotGranted) {
    auto ledger = open_ledger();
    ASSERT_NE(ledger, nullptr);
    ASSERT_EQ(ledger->reserve(1, 10, kNoon), 1);
    raw_exec("DROP TABLE quota_days");
    EXPECT_EQ(ledger->reserve(1, 10, kNoon), -1);
    EXPECT_FALSE(ledger->last_error().empty());
    EXPECT_FALSE(ledger->refund(1, kNoon));
    EXPECT_FALSE(ledger->mark_exhausted(kNoon));
    const QuotaStatus s = ledger->status(10, kNoon);
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.remaining, 0);
    EXPECT_EQ(s.resets_at, kNextMidnight);
}

}  // namespace
}  // namespace vault_metadata
