<?php
// Shared helpers of the integration-test scripts (FastCGI through php-fpm, or the CLI).

function it_threads(): int { return count(scandir('/proc/self/task')) - 2; }

// scandir() holds one descriptor of its own while it reads: the count includes it, always the same.
function it_fds(): int { return count(scandir('/proc/self/fd')) - 2; }

function it_options(array $q): array {
    $opts = [];
    foreach (['max_age', 'timeout_ms'] as $k) {
        if (isset($q[$k]) && $q[$k] !== '') $opts[$k] = (int)$q[$k];
    }
    if (isset($q['allow_stale'])) $opts['allow_stale'] = $q['allow_stale'] === '1';
    return $opts;
}

function it_ids(array $q): array {
    return isset($q['ids']) && $q['ids'] !== '' ? explode(',', $q['ids']) : [];
}

// The answer of vault_metadata_fetch_batch() reduced to what the tests check.
function it_summary(array $ids, array $result, float $elapsed_ms): array {
    $got = [];
    $stale = [];
    $bad = [];
    foreach ($result as $id => $item) {
        $id = (string)$id;
        $got[] = $id;
        if (!empty($item['stale'])) $stale[] = $id;
        if (!is_array($item) || ($item['video_id'] ?? null) !== $id) $bad[] = $id;
    }
    return [
        'pid' => getmypid(),
        'count' => count($result),
        'ids' => $got,
        'stale' => $stale,
        'bad' => $bad,
        'missing' => array_values(array_diff($ids, $got)),
        'elapsed_ms' => $elapsed_ms,
    ];
}

function it_reply(array $data, int $status = 200): void {
    if (PHP_SAPI !== 'cli') {
        http_response_code($status);
        header('Content-Type: application/json');
    }
    echo json_encode($data, JSON_UNESCAPED_SLASHES), "\n";
}
