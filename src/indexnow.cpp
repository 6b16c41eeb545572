#include "indexnow.h"

#include "json_text.h"

#include <cctype>

namespace vault_metadata {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace

bool is_valid_indexnow_key(std::string_view key) noexcept {
    if (key.size() < 8 || key.size() > 128) return false;
    for (unsigned char c : key) {
        if (!std::isalnum(c) && c != '-') return false;
    }
    return true;
}

bool is_acceptable_indexnow_url(std::string_view url, std::string_view host, std::string* why) {
    auto fail = [why](const char* reason) {
        if (why) *why = reason;
        return false;
    };
    if (url.size() > 2048) return fail("longer than 2048 characters");
    for (unsigned char c : url) {
        if (c <= 0x20 || c == 0x7f) return fail("contains a space or a control character");
    }
    std::string_view rest;
    if (url.substr(0, 7) == "http://") {
        rest = url.substr(7);
    } else if (url.substr(0, 8) == "https://") {
        rest = url.substr(8);
    } else {
        return fail("not an absolute http(s) URL");
    }
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.find('@') != std::string_view::npos) return fail("contains user information");
    std::string_view url_host = authority.substr(0, authority.rfind(':') == std::string_view::npos ||
                                                            authority.back() == ']'
                                                        ? authority.size()
                                                        : authority.rfind(':'));
    if (url_host.empty()) return fail("has no host");
    if (!iequals(url_host, host)) return fail("is not on the configured host");
    return true;
}

std::string indexnow_body(std::string_view host, std::string_view key, std::string_view key_location,
                          const std::vector<std::string>& urls) {
    std::string body = "{\"host\":";
    append_json_string(body, host);
    body += ",\"key\":";
    append_json_string(body, key);
    if (!key_location.empty()) {
        body += ",\"keyLocation\":";
        append_json_string(body, key_location);
    }
    body += ",\"urlList\":[";
    for (size_t i = 0; i < urls.size(); ++i) {
        if (i) body += ',';
        append_json_string(body, urls[i]);
    }
    body += "]}";
    return body;
}

IndexNowOutcome indexnow_outcome(long http_status) noexcept {
    if (http_status == 200 || http_status == 202) return IndexNowOutcome::done;
    if (http_status == 0 || http_status == 429 || (http_status >= 500 && http_status <= 599)) {
        return IndexNowOutcome::retry;
    }
    return IndexNowOutcome::drop;
}

}  // namespace vault_metadata
