<?php
/**
 * Health check for a load balancer or an orchestrator: GET /healthz.
 *
 *   200  {"ok": true, ...}   this worker can do its job
 *   503  {"ok": false, ...}  it cannot: the cache file is not writable or not readable, the
 *                            background thread of this worker is dead, or the extension is
 *                            not loaded / did not answer
 *
 * The body is what vault_metadata_health() rests on: the cache, this worker's connection pool,
 * its background thread, the host's last upstream success and error, the quota. An exhausted
 * quota or a failing YouTube does NOT make the check fail: every worker of the host would fail
 * together and the site would lose the stale answers it can still serve; alert on
 * `upstream.last_error_at` and `quota.exhausted` instead.
 *
 * The check runs in whichever worker the server picks, so one answer speaks for one worker.
 * It never fetches upstream and costs no quota. It does not print the cache path: point the
 * probe at it from the private network only, e.g. (nginx)
 *   location = /healthz { allow 10.0.0.0/8; allow 127.0.0.1; deny all;
 *                         include fastcgi_params;
 *                         fastcgi_param SCRIPT_FILENAME /srv/site/php-examples/healthz.php;
 *                         fastcgi_pass unix:/run/php/php8.2-fpm.sock; }
 */

declare(strict_types=1);

function vault_healthz_reply(int $status, array $body): void
{
    http_response_code($status);
    header('Content-Type: application/json; charset=utf-8');
    header('Cache-Control: no-store');
    echo json_encode($body, JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION), "\n";
}

if (!function_exists('vault_metadata_health')) {
    vault_healthz_reply(503, ['ok' => false, 'error' => 'the vault_metadata extension is not loaded']);
    return;
}

try {
    $health = vault_metadata_health();
} catch (\Throwable $e) {
    error_log('healthz: ' . get_class($e) . ': ' . $e->getMessage());
    vault_healthz_reply(503, ['ok' => false, 'error' => 'the health check failed']);
    return;
}

$ok = ($health['ok'] ?? false) === true;
unset($health['cache']['path']);  // no file system layout on a probe's answer
$health['pid'] = getmypid();  // which worker answered
$health['checked_at'] = time();
vault_healthz_reply($ok ? 200 : 503, $health);
