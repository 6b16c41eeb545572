#include "http_client.h"

#include <strings.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "fork_guard.h"

namespace vault_metadata {

struct HttpClient::Transfer {
    HttpClient* client;
    CURL* easy;
    HttpResult result;
    Callback done;
    char error_buffer[CURL_ERROR_SIZE];
    std::string request_body;
    curl_slist* headers = nullptr;
};

struct HttpClient::SocketContext {
    uv_poll_t poll;
    curl_socket_t fd;
    HttpClient* client;
};

namespace {

// An API answer is a few hundred KiB at most; anything larger is not YouTube talking.
constexpr size_t kMaxBodyBytes = 16u << 20;

void free_socket_context(uv_handle_t* handle) {
    delete static_cast<HttpClient::SocketContext*>(handle->data);
}

}  // namespace

HttpClient::HttpClient(uv_loop_t* loop) : loop_(loop), multi_(curl_multi_init()) {
    uv_timer_init(loop_, &timer_);
    timer_.data = this;
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &HttpClient::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &HttpClient::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    // 20 chunks go out at once; keep their connections for the next batch.
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 64L);
}

HttpClient::~HttpClient() {
    if (!closed_) close();
    curl_multi_cleanup(multi_);
}

void HttpClient::get(const std::string& url, int64_t timeout_ms, Callback done) {
    Transfer* t = start(url, timeout_ms, std::move(done));
    transfers_.insert(t);
    curl_multi_add_handle(multi_, t->easy);
}

void HttpClient::post(const std::string& url, std::string body, const std::string& content_type,
                      int64_t timeout_ms, Callback done) {
    Transfer* t = start(url, timeout_ms, std::move(done));
    t->request_body = std::move(body);
    t->headers = curl_slist_append(nullptr, ("Content-Type: " + content_type).c_str());
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->request_body.data());
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->request_body.size()));
    transfers_.insert(t);
    curl_multi_add_handle(multi_, t->easy);
}

HttpClient::Transfer* HttpClient::start(const std::string& url, int64_t timeout_ms, Callback done) {
    auto* t = new Transfer{this, curl_easy_init(), {}, std::move(done), {}, {}, nullptr};
    CURL* e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpClient::on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &HttpClient::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    // Signals belong to PHP (SIGALRM, SIGPROF): libcurl must never raise or catch them.
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(timeout_ms, 1)));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::clamp<int64_t>(timeout_ms, 1, 5000)));
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "vault_metadata/" VAULT_METADATA_VERSION);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (url.compare(0, 8, "https://") == 0) {
        // Wait for a multiplexed HTTP/2 connection instead of opening one per chunk.
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    }
    return t;
}

size_t HttpClient::on_body(char* data, size_t size, size_t count, void* opaque) {
    auto* t = static_cast<Transfer*>(opaque);
    size_t bytes = size * count;
    if (t->result.body.size() + bytes > kMaxBodyBytes) return 0;  // aborts the transfer
    t->result.body.append(data, bytes);
    return bytes;
}

size_t HttpClient::on_header(char* data, size_t size, size_t count, void* opaque) {
    auto* t = static_cast<Transfer*>(opaque);
    size_t bytes = size * count;
    static constexpr char kRetryAfter[] = "retry-after:";
    constexpr size_t name_len = sizeof(kRetryAfter) - 1;
    if (bytes > name_len && strncasecmp(data, kRetryAfter, name_len) == 0) {
        std::string value(data + name_len, bytes - name_len);
        auto first = value.find_first_not_of(" \t");
        auto last = value.find_last_not_of(" \t\r\n");
        t->result.retry_after = first == std::string::npos ? "" : value.substr(first, last - first + 1);
    } else if (bytes >= 5 && std::memcmp(data, "HTTP/", 5) == 0) {
        // A new response (after a redirect or 100-continue) starts clean.
        t->result.retry_after.clear();
    }
    return bytes;
}

int HttpClient::on_socket(CURL*, curl_socket_t fd, int action, void* opaque, void* socket_context) {
    auto* self = static_cast<HttpClient*>(opaque);
    auto* ctx = static_cast<SocketContext*>(socket_context);
    if (action == CURL_POLL_REMOVE) {
        if (ctx) {
            uv_poll_stop(&ctx->poll);
            uv_close(reinterpret_cast<uv_handle_t*>(&ctx->poll), free_socket_context);
            curl_multi_assign(self->multi_, fd, nullptr);
        }
        return 0;
    }
    if (!ctx) {
        ctx = new SocketContext{{}, fd, self};
        if (uv_poll_init_socket(self->loop_, &ctx->poll, fd) != 0) {
            delete ctx;
            return -1;
        }
        ctx->poll.data = ctx;
        curl_multi_assign(self->multi_, fd, ctx);
    }
    int events = 0;
    if (action != CURL_POLL_IN) events |= UV_WRITABLE;
    if (action != CURL_POLL_OUT) events |= UV_READABLE;
    uv_poll_start(&ctx->poll, events, &HttpClient::on_poll);
    return 0;
}

void HttpClient::on_poll(uv_poll_t* poll, int status, int events) {
    LoopWorkScope working;
    auto* ctx = static_cast<SocketContext*>(poll->data);
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (status == 0 && (events & UV_READABLE)) flags |= CURL_CSELECT_IN;
    if (status == 0 && (events & UV_WRITABLE)) flags |= CURL_CSELECT_OUT;
    ctx->client->drive(ctx->fd, flags);
}

int HttpClient::on_timer(CURLM*, long timeout_ms, void* opaque) {
    auto* self = static_cast<HttpClient*>(opaque);
    if (timeout_ms < 0) {
        uv_timer_stop(&self->timer_);
    } else {
        // A zero timeout means "act now"; going through the loop avoids re-entering libcurl.
        uv_timer_start(&self->timer_, &HttpClient::on_timeout, static_cast<uint64_t>(timeout_ms), 0);
    }
    return 0;
}

void HttpClient::on_timeout(uv_timer_t* timer) {
    LoopWorkScope working;
    static_cast<HttpClient*>(timer->data)->drive(CURL_SOCKET_TIMEOUT, 0);
}

void HttpClient::drive(curl_socket_t fd, int events) {
    int running = 0;
    curl_multi_socket_action(multi_, fd, events, &running);
    collect_finished();
}

void HttpClient::collect_finished() {
    CURLMsg* message;
    int pending;
    // Callbacks may start new transfers; gather first, then call.
    std::vector<Transfer*> finished;
    while ((message = curl_multi_info_read(multi_, &pending))) {
        if (message->msg != CURLMSG_DONE) continue;
        Transfer* t = nullptr;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
        CURLcode code = message->data.result;
        long connects = 0;
        curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
        connections_opened_ += connects;
        if (code == CURLE_OK) {
            curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->result.status);
        } else {
            t->result.status = 0;
            t->result.body.clear();
            t->result.transport_error = code == CURLE_OPERATION_TIMEDOUT ? ErrorClass::timeout : ErrorClass::network;
            t->result.transport_message = t->error_buffer[0] ? t->error_buffer : curl_easy_strerror(code);
        }
        curl_multi_remove_handle(multi_, t->easy);
        curl_easy_cleanup(t->easy);
        curl_slist_free_all(t->headers);
        transfers_.erase(t);
        finished.push_back(t);
    }
    for (Transfer* t : finished) {
        Callback done = std::move(t->done);
        HttpResult result = std::move(t->result);
        delete t;
        done(std::move(result));
    }
}

void HttpClient::close() {
    if (closed_) return;
    closed_ = true;
    for (Transfer* t : transfers_) {
        curl_multi_remove_handle(multi_, t->easy);
        curl_easy_cleanup(t->easy);
        curl_slist_free_all(t->headers);
        delete t;
    }
    transfers_.clear();
    uv_timer_stop(&timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
    // Idle connections still own sockets with poll handles: closing the multi handle
    // reports them through CURL_POLL_REMOVE, which closes the handles.
    curl_multi_cleanup(multi_);
    multi_ = curl_multi_init();
}

}  // namespace vault_metadata
