<?php
/**
 * The origin of the edge Worker: POST /v1/metadata/batch.
 *
 * The Worker (php-examples/edge/) sends {"video_ids": [...]} as msgpack and reads back
 * {fresh, stale_refreshed, stale, missing, quota_remaining} in the same encoding. Humans may send
 * application/json and get JSON. The msgpack (and JSON) work happens inside the extension, in one
 * call that takes the raw body and returns the raw answer: no PHP array is built for the items.
 *
 *   200  the answer                                  (Content-Type: the request's encoding)
 *   400  a body that is not {"video_ids": [id, ...]}  {"error": {"status", "code", "message"}}
 *        (bad msgpack or JSON, wrong keys or types, bad ids, more than vault_metadata.max_batch
 *        distinct ids, more than 64 KiB, empty)
 *   404  another path; 405 another method (Allow: POST); 415 another Content-Type (JSON error body)
 *   503  the extension is not loaded or could not answer (never for bad input)
 * Every answer of the function carries X-Vault-Correlation-Id (24 hex characters).
 *
 * Routing: any front-controller set-up works.
 *   php -S 127.0.0.1:8080 php-examples/origin/index.php        (as the router script)
 *   nginx:  location /v1/ { include fastcgi_params;
 *                           fastcgi_param SCRIPT_FILENAME /srv/site/php-examples/origin/index.php;
 *                           fastcgi_pass unix:/run/php/php8.2-fpm.sock; }
 *           and client_max_body_size above 64k (e.g. 16m) so that the origin, not nginx, refuses
 *           large bodies, in the request's encoding.
 * Keep display_errors off (as php.ini-production does): PHP's own start-up warning for a body over
 * post_max_size would otherwise be printed into the answer.
 */

declare(strict_types=1);

const VAULT_ORIGIN_PATH = '/v1/metadata/batch';
const VAULT_ORIGIN_MAX_BODY_BYTES = 65536;

/** An error the front controller answers itself (before the extension): always JSON. */
function vault_origin_plain_error(int $status, string $code, string $message): void
{
    http_response_code($status);
    header('Content-Type: application/json; charset=utf-8');
    header('Cache-Control: no-store');
    echo json_encode(['error' => ['status' => $status, 'code' => $code, 'message' => $message]]);
}

$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
if ($path !== VAULT_ORIGIN_PATH) {
    vault_origin_plain_error(404, 'not_found', 'POST ' . VAULT_ORIGIN_PATH . ' is the only route');
    return;
}
if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST') {
    header('Allow: POST');
    vault_origin_plain_error(405, 'method_not_allowed', 'use POST');
    return;
}
if (!function_exists('vault_metadata_origin_respond')) {
    header('Retry-After: 30');
    vault_origin_plain_error(503, 'unavailable', 'the vault_metadata extension is not loaded');
    error_log('origin: the vault_metadata extension is not loaded');
    return;
}

$options = ['max_body_bytes' => VAULT_ORIGIN_MAX_BODY_BYTES];
$declared = (string) ($_SERVER['CONTENT_LENGTH'] ?? '');
if (preg_match('/^[0-9]+$/', $declared) === 1) {
    // (int) of a number beyond PHP_INT_MAX saturates, which is still "too large".
    $options['content_length'] = (int) $declared;
}
// Read at most one byte more than the limit: a larger body is refused without holding it all.
$body = ($options['content_length'] ?? 0) > VAULT_ORIGIN_MAX_BODY_BYTES
    ? ''
    : (string) file_get_contents('php://input', false, null, 0, VAULT_ORIGIN_MAX_BODY_BYTES + 1);

try {
    $answer = vault_metadata_origin_respond($body, (string) ($_SERVER['CONTENT_TYPE'] ?? ''), $options);
} catch (\Throwable $e) {
    // Only a programming error gets here (bad options): the request itself never throws.
    error_log('origin: ' . $e->getMessage());
    header('Retry-After: 30');
    vault_origin_plain_error(503, 'unavailable', 'the origin could not answer; retry later');
    return;
}

http_response_code($answer['status']);
header('Content-Type: ' . $answer['content_type']);
header('X-Vault-Correlation-Id: ' . $answer['correlation_id']);
// The Worker caches per video and country from each item's ttl; the batch answer itself is not cacheable.
header('Cache-Control: no-store');
header('Content-Length: ' . strlen($answer['body']));
echo $answer['body'];
