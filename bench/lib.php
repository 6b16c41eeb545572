<?php
// Shared by the benchmark scripts: the emulator's control surface, percentiles, the
// timing loop and the API-item → contract-item transform the baselines use.

declare(strict_types=1);

const BENCH_PART = 'snippet,contentDetails,statistics,status';

function bench_env(string $name, ?string $default = null): string {
    $v = getenv($name);
    if ($v === false || $v === '') {
        if ($default === null) {
            fwrite(STDERR, "bench: $name is not set\n");
            exit(2);
        }
        return $default;
    }
    return $v;
}

/** HTTP to the emulator. One connection per call (PHP's http stream sends Connection: close). */
function bench_http(string $method, string $url, ?array $body = null, ?int &$status = null): string {
    $opts = ['http' => ['method' => $method, 'ignore_errors' => true, 'timeout' => 30,
                        'header' => "Content-Type: application/json\r\n"]];
    if ($body !== null) {
        $opts['http']['content'] = json_encode($body);
    }
    $out = file_get_contents($url, false, stream_context_create($opts));
    if ($out === false) {
        throw new RuntimeException("$method $url failed");
    }
    $status = 0;
    foreach ($http_response_header ?? [] as $h) {
        if (preg_match('#^HTTP/\S+ (\d{3})#', $h, $m)) {
            $status = (int) $m[1];
        }
    }
    return $out;
}

function bench_control(string $path, ?array $body = null): array {
    $base = bench_env('EMULATOR_URL');
    $json = bench_http($body === null ? 'GET' : 'POST', $base . $path, $body);
    return json_decode($json, true, 512, JSON_THROW_ON_ERROR);
}

/** $count ids of kind "any" (every one is returned by the API) from the $start-th. */
function bench_ids(int $count, int $start = 0, string $kind = 'any'): array {
    return bench_control("/_control/ids?kind=$kind&start=$start&count=$count")['ids'];
}

function bench_videos_url(array $ids): string {
    // The query the extension sends: the same parts, compact JSON.
    return bench_env('EMULATOR_URL') . '/youtube/v3/videos?part=' . rawurlencode(BENCH_PART)
        . '&prettyPrint=false&id=' . implode(',', $ids) . '&key=bench';
}

/** One videos.list call, decoded; what a PHP developer writes with file_get_contents + json_decode. */
function bench_videos_list(array $ids): array {
    $url = bench_videos_url($ids);
    $json = bench_http('GET', $url, null, $status);
    if ($status !== 200) {
        throw new RuntimeException("videos.list answered $status: " . substr($json, 0, 200));
    }
    return json_decode($json, true, 512, JSON_THROW_ON_ERROR)['items'];
}

function bench_iso_duration(?string $d): int {
    if ($d === null || !preg_match('/^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/', $d, $m)) {
        return 0;
    }
    return (int) ($m[1] ?? 0) * 86400 + (int) ($m[2] ?? 0) * 3600 + (int) ($m[3] ?? 0) * 60 + (int) ($m[4] ?? 0);
}

/** A videos.list item in the contract's shape (the 19 stored keys; ttl/fetched_at/stale are added on read). */
function bench_item_from_api(array $v): array {
    $s = $v['snippet'] ?? [];
    $c = $v['contentDetails'] ?? [];
    $st = $v['statistics'] ?? [];
    $status = $v['status'] ?? [];
    $region = $c['regionRestriction'] ?? [];
    $count = static fn (string $k) => isset($st[$k]) ? (int) $st[$k] : null;
    return [
        'video_id' => $v['id'],
        'title' => $s['title'] ?? '',
        'channel_id' => $s['channelId'] ?? '',
        'channel_title' => $s['channelTitle'] ?? '',
        'channel_handle' => null,
        'published_at' => (int) strtotime(preg_replace('/\.\d+/', '', $s['publishedAt'] ?? '1970-01-01T00:00:00Z')),
        'duration_seconds' => bench_iso_duration($c['duration'] ?? null),
        'view_count' => $count('viewCount'),
        'like_count' => $count('likeCount'),
        'comment_count' => $count('commentCount'),
        'category_id' => $s['categoryId'] ?? '',
        'live_broadcast_content' => $s['liveBroadcastContent'] ?? 'none',
        'age_restricted' => ($c['contentRating']['ytRating'] ?? '') === 'ytAgeRestricted',
        'licensed_content' => (bool) ($c['licensedContent'] ?? false),
        'embeddable' => (bool) ($status['embeddable'] ?? false),
        'made_for_kids' => (bool) ($status['madeForKids'] ?? false),
        'privacy_status' => $status['privacyStatus'] ?? '',
        'allowed_countries' => $region['allowed'] ?? null,
        'blocked_countries' => $region['blocked'] ?? [],
    ];
}

function bench_percentile(array $sorted, float $p): float {
    $n = count($sorted);
    if ($n === 0) {
        return NAN;
    }
    $rank = $p / 100 * ($n - 1);
    $lo = (int) floor($rank);
    $hi = min($lo + 1, $n - 1);
    return $sorted[$lo] + ($sorted[$hi] - $sorted[$lo]) * ($rank - $lo);
}

/**
 * Times $fn: $warmup untimed calls, then $iterations calls each bracketed by hrtime(true).
 * The result is held outside the timed window and freed after it, so a sample is
 * "call + building the answer", not the freeing of the previous answer.
 * Then memory, on the Zend heap (memory_get_usage(false), which is what PHP scripts pay for):
 *  - result_bytes: $mem_calls calls whose results are all kept alive in a preallocated
 *    array; (usage after - usage before) / $mem_calls = bytes each answer keeps;
 *  - peak_bytes: memory_reset_peak_usage() before each call, peak - usage before, averaged:
 *    the high-water mark a call reaches, transient buffers included.
 * Allocations outside the Zend heap (malloc in the extension, SQLite's page cache) are not
 * seen by either; the callgrind row covers the native side.
 */
function bench_time(callable $fn, int $warmup, int $iterations, int $mem_calls = 200): array {
    for ($i = 0; $i < $warmup; $i++) {
        $r = $fn();
        unset($r);
    }
    $samples = array_fill(0, $iterations, 0);
    $t_start = hrtime(true);
    for ($i = 0; $i < $iterations; $i++) {
        $t0 = hrtime(true);
        $r = $fn();
        $samples[$i] = hrtime(true) - $t0;
        unset($r);
    }
    $wall = hrtime(true) - $t_start;
    // The cost of the two hrtime() calls themselves, subtracted from nothing but reported.
    $overhead = PHP_INT_MAX;
    for ($i = 0; $i < 1000; $i++) {
        $t0 = hrtime(true);
        $overhead = min($overhead, hrtime(true) - $t0);
    }

    $keep = array_fill(0, $mem_calls, null);
    $before = memory_get_usage(false);
    for ($i = 0; $i < $mem_calls; $i++) {
        $keep[$i] = $fn();
    }
    $result_bytes = (memory_get_usage(false) - $before) / $mem_calls;
    $n_items = is_array($keep[0]) ? count($keep[0]) : 0;
    $keys = is_array($keep[0]) && $n_items ? array_keys(reset($keep[0])) : [];
    unset($keep);

    $peak_sum = 0;
    for ($i = 0; $i < $mem_calls; $i++) {
        memory_reset_peak_usage();
        $b = memory_get_usage(false);
        $r = $fn();
        $peak_sum += memory_get_peak_usage(false) - $b;
        unset($r);
    }

    sort($samples);
    $us = static fn (float $ns) => round($ns / 1000, 3);
    $mean = array_sum($samples) / $iterations;
    return [
        'iterations' => $iterations,
        'p50_us' => $us(bench_percentile($samples, 50)),
        'p95_us' => $us(bench_percentile($samples, 95)),
        'p99_us' => $us(bench_percentile($samples, 99)),
        'max_us' => $us((float) end($samples)),
        'mean_us' => $us($mean),
        'calls_per_s' => round(1e9 / $mean),
        'loop_calls_per_s' => round($iterations * 1e9 / $wall),
        'timer_overhead_ns' => $overhead,
        'result_bytes' => (int) round($result_bytes),
        'peak_bytes' => (int) round($peak_sum / $mem_calls),
        'items' => $n_items,
        'item_keys' => count($keys),
    ];
}

/**
 * Sends one videos.list call per chunk, all at once (non-blocking sockets, HTTP/1.0, read to EOF),
 * and returns the ns until the last answer is in: the least time any client needs for these
 * calls against this emulator. Throws unless every answer is a 200.
 */
function bench_parallel_videos_lists(array $chunks): int {
    $parts = parse_url(bench_env('EMULATOR_URL'));
    $t0 = hrtime(true);
    $socks = [];
    foreach ($chunks as $i => $ids) {
        $s = stream_socket_client("tcp://{$parts['host']}:{$parts['port']}", $errno, $errstr, 10);
        if ($s === false) {
            throw new RuntimeException("connect: $errstr");
        }
        $url = parse_url(bench_videos_url($ids));
        fwrite($s, "GET {$url['path']}?{$url['query']} HTTP/1.0\r\nHost: {$parts['host']}\r\n\r\n");
        stream_set_blocking($s, false);
        $socks[$i] = $s;
    }
    $bufs = array_fill_keys(array_keys($socks), '');
    $open = $socks;
    while ($open) {
        $read = array_values($open);
        $w = $e = null;
        if (stream_select($read, $w, $e, 30) === 0) {
            throw new RuntimeException('parallel videos.list: timed out');
        }
        foreach ($read as $s) {
            $i = array_search($s, $open, true);
            $chunk = fread($s, 65536);
            if ($chunk === '' || $chunk === false) {
                if (feof($s)) {
                    fclose($s);
                    unset($open[$i]);
                }
                continue;
            }
            $bufs[$i] .= $chunk;
        }
    }
    $elapsed = hrtime(true) - $t0;
    foreach ($bufs as $buf) {
        if (!preg_match('#^HTTP/1\.[01] 200 #', $buf)) {
            throw new RuntimeException('parallel videos.list: ' . substr($buf, 0, 80));
        }
    }
    return $elapsed;
}
