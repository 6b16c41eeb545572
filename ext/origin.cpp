/* vault_metadata_origin_respond(): the edge origin's POST /v1/metadata/batch in one call.
 *
 * The raw request body goes in, the raw answer body comes out: parsing (msgpack-c or simdjson)
 * and encoding live in the core (src/origin_protocol), the fetch is the same as
 * vault_metadata_fetch_batch_detailed()'s, and no PHP array is built for the items. */

#include "php_vault_metadata.h"

extern "C" {
#include "main/php_open_temporary_file.h"
#include "zend_exceptions.h"
}

#include <ctime>
#include <string>
#include <vector>

#include "correlation_id.h"
#include "engine.h"
#include "fetch_pipeline.h"
#include "local_cache.h"
#include "origin_protocol.h"
#include "ttl_policy.h"

namespace {

namespace origin = vault_metadata::origin;

struct OriginOptions {
    vault_metadata::FetchOptions fetch;
    origin::Limits limits;
    zend_long content_length = -1;  // the request's Content-Length header, when the caller knows it
};

#define VM_ORIGIN_KNOWN_OPTIONS "max_age, timeout_ms, allow_stale, max_body_bytes, content_length"

/* Options are the caller's (the front controller's), not the request's: a mistake in them is
 * a TypeError / ValueError like every other function of the extension. */
bool parse_origin_options(HashTable* input, OriginOptions& o) {
    o.fetch.max_age = VAULT_METADATA_G(max_age);
    o.fetch.timeout_ms = VAULT_METADATA_G(fetch_timeout_ms);
    o.fetch.allow_stale = true;
    o.limits.max_body_bytes = origin::kDefaultMaxBodyBytes;
    o.limits.max_ids = static_cast<size_t>(VAULT_METADATA_G(max_batch));
    if (!input) return true;
    zend_ulong num_key;
    zend_string* key;
    zval* value;
    ZEND_HASH_FOREACH_KEY_VAL(input, num_key, key, value) {
        ZVAL_DEREF(value);
        zend_long v = 0;
        if (!key) {
            zend_argument_value_error(3, "contains an unknown option at key " ZEND_ULONG_FMT
                                         " (known: " VM_ORIGIN_KNOWN_OPTIONS ")", num_key);
            return false;
        }
        bool known;
        if (!vault_metadata_php::read_fetch_option(3, key, value, o.fetch, &known)) return false;
        if (known) continue;
        if (zend_string_equals_literal(key, "max_body_bytes")) {
            if (!vault_metadata_php::read_int_option(3, value, "max_body_bytes", 1, v)) return false;
            o.limits.max_body_bytes = static_cast<size_t>(v);
        } else if (zend_string_equals_literal(key, "content_length")) {
            if (Z_TYPE_P(value) == IS_NULL) continue;
            if (!vault_metadata_php::read_int_option(3, value, "content_length", 0, v)) return false;
            o.content_length = v;
        } else {
            zend_argument_value_error(3, "contains an unknown option \"%.*s\" (known: " VM_ORIGIN_KNOWN_OPTIONS ")",
                                      static_cast<int>(std::min<size_t>(ZSTR_LEN(key), 40)), ZSTR_VAL(key));
            return false;
        }
    }
    ZEND_HASH_FOREACH_END();
    return true;
}

/* The pipeline's answer for `ids`, split the way the edge reads it. */
void run_origin_fetch(vault_metadata_php::FetchOutcome& fetched, origin::Answer& answer) {
    using vault_metadata::Served;
    vault_metadata_php::run_fetch_pipeline(fetched, vault_metadata::CallKind::fetch_batch_detailed);
    for (size_t i = 0; i < fetched.ids.size(); ++i) {
        const vault_metadata_php::Slot& slot = fetched.slots[i];
        if (slot.missing) {
            answer.missing.push_back(fetched.ids[i]);
            continue;
        }
        origin::AnswerItem item{&slot.meta(), vault_metadata_php::slot_ttl(fetched, slot)};
        (slot.how == Served::fresh       ? answer.fresh
         : slot.how == Served::refreshed ? answer.stale_refreshed
                                         : answer.stale)
            .push_back(item);
    }
}

void return_response(zval* return_value, int status, origin::Encoding encoding, const std::string& body,
                     const std::string& correlation_id) {
    const char* content_type = origin::content_type_of(encoding);
    array_init_size(return_value, 4);
    add_assoc_long(return_value, "status", status);
    add_assoc_string(return_value, "content_type", content_type);
    add_assoc_stringl(return_value, "body", body.data(), body.size());
    add_assoc_stringl(return_value, "correlation_id", correlation_id.data(), correlation_id.size());
}

}  // namespace

PHP_FUNCTION(vault_metadata_origin_respond) {
    zend_string* body;
    zend_string* content_type;
    HashTable* options_table = nullptr;
    ZEND_PARSE_PARAMETERS_START(2, 3)
        Z_PARAM_STR(body)
        Z_PARAM_STR(content_type)
        Z_PARAM_OPTIONAL
        Z_PARAM_ARRAY_HT(options_table)
    ZEND_PARSE_PARAMETERS_END();

    OriginOptions options;
    if (!parse_origin_options(options_table, options)) RETURN_THROWS();

    vault_metadata_php::FetchOutcome fetched;
    fetched.options = options.fetch;
    std::string correlation_id = vault_metadata::new_correlation_id();
    const auto encoding = origin::encoding_of(std::string_view(ZSTR_VAL(content_type), ZSTR_LEN(content_type)));
    if (!encoding) {
        const origin::RequestError error = origin::unsupported_media_type();
        return_response(return_value, error.status, origin::Encoding::json,
                        origin::encode_error(error, origin::Encoding::json), correlation_id);
        return;
    }

    /* Bad input touches nothing: it is refused before the cache or the engine is asked. */
    std::vector<std::string>& ids = fetched.ids;
    origin::RequestError error;
    bool ok;
    if (options.content_length >= 0 && static_cast<size_t>(options.content_length) > options.limits.max_body_bytes) {
        /* PHP may have refused to buffer a body over post_max_size and handed us an empty one. */
        error = origin::body_too_large(options.limits);
        ok = false;
    } else {
        ok = origin::parse_request(std::string_view(ZSTR_VAL(body), ZSTR_LEN(body)), *encoding, options.limits, ids,
                                   error);
    }
    if (!ok) {
        return_response(return_value, error.status, *encoding, origin::encode_error(error, *encoding),
                        correlation_id);
        return;
    }

    origin::Answer answer_items;
    std::string answer;
    try {
        run_origin_fetch(fetched, answer_items);
        correlation_id = fetched.correlation_id;
        answer_items.quota_remaining =
            vault_metadata::Engine::for_this_process().quota(vault_metadata_php::current_settings()).remaining;
        answer = origin::encode_answer(answer_items, *encoding);
    } catch (...) {
        /* Out of memory or a library throwing: an operational failure, not the client's. */
        php_vault_metadata_flush_log();
        const origin::RequestError unavailable{503, "unavailable", "the origin could not answer; retry later"};
        return_response(return_value, 503, *encoding, origin::encode_error(unavailable, *encoding), correlation_id);
        return;
    }
    php_vault_metadata_flush_log();
    return_response(return_value, 200, *encoding, answer, correlation_id);
}
