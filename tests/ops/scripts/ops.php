<?php
// The ops tests' FastCGI script: ops.php?do=ACTION&...; answers JSON (phpinfo: text/html).
//   fetch     ids=a,b,c [timeout_ms, max_age, sleep_ms]  -> {pid, correlation_id, count, missing, stale}
//   stats     minutes=N                        -> vault_metadata_stats(N) + now (this process's clock)
//   metrics                                    -> vault_metadata_metrics() (text)
//   health                                     -> vault_metadata_health() + pid
//   events    [id]                             -> vault_metadata_events(id)
//   indexnow  prefix=URL start=S count=N [extra=URL] -> {accepted, pid}
//   phpinfo                                    -> phpinfo() without PHP's own request/environment dump
//   client                                     -> sha256 of the client's UA / XFF / address / referer
//   time                                       -> {now: microtime, pid}
declare(strict_types=1);

function ops_reply(array $data, int $status = 200): void {
    http_response_code($status);
    header('Content-Type: application/json');
    echo json_encode($data, JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION), "\n";
}

$do = $_GET['do'] ?? '';
try {
    switch ($do) {
        case 'fetch':
            $ids = ($_GET['ids'] ?? '') === '' ? [] : explode(',', $_GET['ids']);
            $opts = [];
            foreach (['timeout_ms', 'max_age'] as $k) {
                if (isset($_GET[$k])) $opts[$k] = (int)$_GET[$k];
            }
            $result = vault_metadata_fetch_batch($ids, $opts);
            if (!empty($_GET['sleep_ms'])) usleep(1000 * (int)$_GET['sleep_ms']);
            $stale = [];
            foreach ($result as $id => $item) if ($item['stale']) $stale[] = (string)$id;
            ops_reply(['pid' => getmypid(), 'correlation_id' => vault_metadata_last_correlation_id(),
                       'count' => count($result), 'stale' => $stale,
                       'missing' => array_values(array_diff($ids, array_map('strval', array_keys($result))))]);
            break;
        case 'stats':
            ops_reply(['pid' => getmypid(), 'now' => microtime(true)] + vault_metadata_stats((int)($_GET['minutes'] ?? 1)));
            break;
        case 'metrics':
            header('Content-Type: text/plain; version=0.0.4');
            echo vault_metadata_metrics();
            break;
        case 'health':
            ops_reply(['pid' => getmypid()] + vault_metadata_health());
            break;
        case 'events':
            ops_reply(['pid' => getmypid(), 'events' => vault_metadata_events((string)($_GET['id'] ?? ''))]);
            break;
        case 'indexnow':
            $prefix = (string)($_GET['prefix'] ?? '');
            $start = (int)($_GET['start'] ?? 0);
            $count = (int)($_GET['count'] ?? 0);
            $urls = [];
            for ($i = $start; $i < $start + $count; $i++) $urls[] = $prefix . $i;
            if (isset($_GET['extra'])) $urls[] = (string)$_GET['extra'];
            ops_reply(['pid' => getmypid(), 'accepted' => vault_indexnow_submit($urls)]);
            break;
        case 'phpinfo':
            // INFO_ENVIRONMENT and INFO_VARIABLES are PHP's own dump of the request ($_SERVER holds the
            // client's address and user agent by definition): what the extension adds is in the rest.
            phpinfo(INFO_GENERAL | INFO_CONFIGURATION | INFO_MODULES);
            break;
        case 'client':
            // Proof that the client's headers reach PHP, without printing them.
            $h = [];
            foreach (['HTTP_USER_AGENT', 'HTTP_X_FORWARDED_FOR', 'REMOTE_ADDR', 'HTTP_REFERER'] as $k) {
                $h[$k] = hash('sha256', (string)($_SERVER[$k] ?? ''));
            }
            ops_reply($h);
            break;
        case 'time':
            ops_reply(['pid' => getmypid(), 'now' => microtime(true)]);
            break;
        default:
            ops_reply(['error' => "unknown do=$do"], 400);
    }
} catch (Throwable $e) {
    ops_reply(['pid' => getmypid(), 'error' => get_class($e) . ': ' . $e->getMessage()], 500);
}
