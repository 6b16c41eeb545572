// HTTP GETs through one curl multi handle driven by a libuv loop, as libcurl's
// multi-uv example shows. Every call and callback happens on the loop's thread.
#pragma once

#include <curl/curl.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_set>

#include "version.h"
#include "video_meta.h"

namespace vault_metadata {

struct HttpResult {
    long status = 0;  // 0 when no HTTP answer arrived
    std::string body;
    std::string retry_after;           // the Retry-After header, verbatim
    ErrorClass transport_error = ErrorClass::none;  // timeout or network when status is 0
    std::string transport_message;     // curl's text, never containing the URL
};

class HttpClient {
public:
    using Callback = std::function<void(HttpResult&&)>;

    explicit HttpClient(uv_loop_t* loop);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Starts a GET; `done` runs on the loop thread exactly once, unless close() comes first.
    void get(const std::string& url, int64_t timeout_ms, Callback done);
    // Starts a POST of `body` with this content type; same contract as get().
    void post(const std::string& url, std::string body, const std::string& content_type, int64_t timeout_ms,
              Callback done);
    // Aborts every transfer without calling its callback and closes the libuv handles;
    // the loop must run until they are closed before the client is destroyed.
    void close();
    size_t in_flight() const noexcept { return transfers_.size(); }
    // Connections libcurl has opened since start (the emulator's connection count's twin).
    int64_t connections_opened() const noexcept { return connections_opened_; }

    // Per-socket poll handle; public only so that libuv's C callbacks can free it.
    struct SocketContext;

private:
    struct Transfer;
    Transfer* start(const std::string& url, int64_t timeout_ms, Callback done);

    static int on_socket(CURL* easy, curl_socket_t fd, int action, void* client, void* socket_context);
    static int on_timer(CURLM* multi, long timeout_ms, void* client);
    static void on_poll(uv_poll_t* poll, int status, int events);
    static void on_timeout(uv_timer_t* timer);
    static size_t on_body(char* data, size_t size, size_t count, void* transfer);
    static size_t on_header(char* data, size_t size, size_t count, void* transfer);
    void drive(curl_socket_t fd, int events);
    void collect_finished();

    uv_loop_t* loop_;
    CURLM* multi_;
    uv_timer_t timer_;
    std::unordered_set<Transfer*> transfers_;
    int64_t connections_opened_ = 0;
    bool closed_ = false;
};

}  // namespace vault_metadata
