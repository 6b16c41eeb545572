// HttpClient against the real emulator (a Python process on loopback), on a real libuv loop.
#include "http_client.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace vault_metadata {
namespace {

class Emulator {
public:
    Emulator() {
        const char* source = std::getenv("VAULT_SOURCE_DIR");
        std::string script = std::string(source ? source : ".") + "/emulator/youtube_emulator.py";
        char dir_template[] = "/tmp/vm-http-test-XXXXXX";
        dir_ = mkdtemp(dir_template);
        std::string port_file = dir_ + "/port";
        pid_ = fork();
        if (pid_ == 0) {
            // Die with the test, and keep ctest's output pipe free: a surviving child holding it
            // would make ctest wait forever.
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            int null_fd = open("/dev/null", O_WRONLY);
            dup2(null_fd, STDOUT_FILENO);
            dup2(null_fd, STDERR_FILENO);
            execlp("python3", "python3", script.c_str(), "--host", "127.0.0.1", "--port", "0", "--port-file",
                   port_file.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        for (int i = 0; i < 100 && port_.empty(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            std::ifstream in(port_file);
            std::getline(in, port_);
        }
    }
    ~Emulator() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
        }
        std::system(("rm -rf " + dir_).c_str());
    }
    bool ready() const { return !port_.empty(); }
    std::string base() const { return "http://127.0.0.1:" + port_; }

private:
    std::string dir_;
    std::string port_;
    pid_t pid_ = -1;
};

// Runs the loop until `done` or the bound.
void run_until(uv_loop_t* loop, const bool& done, int bound_ms = 5000) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(bound_ms);
    while (!done && std::chrono::steady_clock::now() < until) uv_run(loop, UV_RUN_NOWAIT);
}

class HttpClientTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        emulator_ = new Emulator();
    }
    static void TearDownTestSuite() {
        delete emulator_;
        curl_global_cleanup();
    }
    void SetUp() override {
        ASSERT_TRUE(emulator_->ready()) << "the emulator did not start";
        uv_loop_init(&loop_);
        client_ = std::make_unique<HttpClient>(&loop_);
        HttpResult reset = request_post("/_control/reset", "{}");
        ASSERT_EQ(reset.status, 200);
    }
    void TearDown() override {
        client_->close();
        uv_run(&loop_, UV_RUN_DEFAULT);
        client_.reset();
        uv_loop_close(&loop_);
    }
    HttpResult request_get(const std::string& path, int64_t timeout_ms = 3000) {
        HttpResult out;
        bool done = false;
        client_->get(emulator_->base() + path, timeout_ms, [&](HttpResult&& r) {
            out = std::move(r);
            done = true;
        });
        run_until(&loop_, done);
        return out;
    }
    HttpResult request_post(const std::string& path, const std::string& body) {
        HttpResult out;
        bool done = false;
        client_->post(emulator_->base() + path, body, "application/json", 3000, [&](HttpResult&& r) {
            out = std::move(r);
            done = true;
        });
        run_until(&loop_, done);
        return out;
    }

    static Emulator* emulator_;
    uv_loop_t loop_{};
    std::unique_ptr<HttpClient> client_;
};

Emulator* HttpClientTest::emulator_ = nullptr;

TEST_F(HttpClientTest, GetAndPostReachTheServer) {
    HttpResult health = request_get("/_control/health");
    EXPECT_EQ(health.status, 200);
    EXPECT_NE(health.body.find("\"ok\""), std::string::npos);
    HttpResult config = request_post("/_control/config", "{\"latency_ms\": 0}");
    EXPECT_EQ(config.status, 200);
}

TEST_F(HttpClientTest, SequentialRequestsReuseOneConnection) {
    for (int i = 0; i < 5; ++i) ASSERT_EQ(request_get("/youtube/v3/videos?part=id&id=&key=k").status, 200);
    // The reset in SetUp opened the connection; nothing after it opened another.
    EXPECT_EQ(client_->connections_opened(), 1);
}

TEST_F(HttpClientTest, ParallelRequestsAreInFlightTogether) {
    ASSERT_EQ(request_post("/_control/config", "{\"latency_ms\": 300}").status, 200);
    int finished = 0;
    bool all = false;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
        client_->get(emulator_->base() + "/youtube/v3/videos?part=id&id=&key=k", 5000, [&](HttpResult&& r) {
            EXPECT_EQ(r.status, 200);
            all = ++finished == 20;
        });
    }
    EXPECT_EQ(client_->in_flight(), 20u);
    run_until(&loop_, all, 10000);
    EXPECT_EQ(finished, 20);
    HttpResult counters = request_get("/_control/counters?ids=0");
    auto pos = counters.body.find("\"max_concurrency_seen\"");
    ASSERT_NE(pos, std::string::npos);
    int peak = std::atoi(counters.body.c_str() + counters.body.find(':', pos) + 1);
    EXPECT_GE(peak, 10) << "20 requests of 300 ms each should overlap";
    // Sequential would be 6 s; the bound is loose on purpose (a loaded machine).
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(HttpClientTest, SlowAnswerTimesOut) {
    ASSERT_EQ(request_post("/_control/config", "{\"latency_ms\": 2000}").status, 200);
    HttpResult r = request_get("/youtube/v3/videos?part=id&id=&key=k", 200);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.transport_error, ErrorClass::timeout);
}

TEST_F(HttpClientTest, ClosedPortIsANetworkError) {
    HttpResult out;
    bool done = false;
    client_->get("http://127.0.0.1:1/", 2000, [&](HttpResult&& r) {
        out = std::move(r);
        done = true;
    });
    run_until(&loop_, done);
    ASSERT_TRUE(done);
    EXPECT_EQ(out.status, 0);
    EXPECT_EQ(out.transport_error, ErrorClass::network);
}

TEST_F(HttpClientTest, RetryAfterHeaderIsCaptured) {
    ASSERT_EQ(request_post("/_control/faults", "{\"faults\":[{\"type\":\"429\",\"retry_after\":7}]}").status, 200);
    HttpResult r = request_get("/youtube/v3/videos?part=id&id=&key=k");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.retry_after, "7");
}

TEST_F(HttpClientTest, DroppedConnectionIsANetworkError) {
    // Two drops: libcurl itself retries once when a reused connection dies before answering.
    ASSERT_EQ(request_post("/_control/faults", "{\"faults\":[{\"type\":\"drop\",\"count\":2}]}").status, 200);
    HttpResult r = request_get("/youtube/v3/videos?part=id&id=&key=k");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.transport_error, ErrorClass::network);
}

}  // namespace
}  // namespace vault_metadata
