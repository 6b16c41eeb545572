<?php
// Cold batches: n ids that no cache holds, against the emulator at a given latency,
// compared with one direct 50-id call to the emulator ("one upstream call"). Prints JSON.
//
//   php -d extension=… -d vault_metadata.api_base=… bench/cold.php [--latencies=20,100]
//       [--sizes=50,200,1000] [--reps=3] [--plain]
//
// For each latency: POST /_control/reset, then /_control/config {latency_ms}. Then:
//  - one upstream call: GET /videos with 50 ids from PHP (file_get_contents, a new
//    connection each time, as a first call pays), median of --reps;
//  - for each n and rep: a fresh cache file (ini_set db_path, so quota_path too), one
//    1-id call that opens the cache and the loop thread (not timed; a worker that has served
//    before is in that state), then the timed call of n never-seen ids with timeout_ms
//    10000 (so the number is how long the fetch takes, not the default 2 s wait).
//    The emulator is reset before each run; its counters are read just before and just after
//    the timed call: videos and channels calls, connections opened (minus the one that reads
//    the counters) and max_concurrency_seen (over the run: the 1-id call and the timed one).
//  - direct parallel: the same ceil(n/50) calls sent at once from PHP (non-blocking sockets,
//    new connections), median of --reps: the least time any client needs against this
//    emulator, which is Python and serialises much of its work under its interpreter lock;
//  - with --plain, the plain-PHP baseline (sequential file_get_contents) once per n.
// Each id is used once in the whole run: none is in the extension's cache, nothing is coalesced.
// The emulator, though, generates every item in Python under its interpreter lock (about
// 0.2 ms of CPU an item): before each timed call the ids are asked of it once directly, at
// latency 0, so that its item cache holds them and the figure measures the client and the
// configured latency, not the emulator's item generation. The baseline call gets the same.

declare(strict_types=1);

require_once __DIR__ . '/lib.php';
require_once __DIR__ . '/plain_php.php';

$opt = getopt('', ['latencies::', 'sizes::', 'reps::', 'plain']);
$latencies = array_map('intval', explode(',', $opt['latencies'] ?? '20,100'));
$sizes = array_map('intval', explode(',', $opt['sizes'] ?? '50,200,1000'));
$reps = (int) ($opt['reps'] ?? 3);
$with_plain = isset($opt['plain']);
$state = bench_env('BENCH_STATE_DIR');
$next_id = 20000;  // ids from here on are used by this script only, once each
$take = static function (int $n) use (&$next_id): array {
    $ids = bench_ids($n, $next_id);
    $next_id += $n;
    return $ids;
};
$median = static function (array $xs): float {
    sort($xs);
    return bench_percentile($xs, 50);
};
$ms = static fn (int $ns) => round($ns / 1e6, 2);
$warm_emulator = static function (array $ids, int $latency): void {
    bench_control('/_control/config', ['latency_ms' => 0]);
    foreach (array_chunk($ids, 50) as $chunk) {
        bench_videos_list($chunk);
    }
    bench_control('/_control/config', ['latency_ms' => $latency]);
};

// The emulator's own service time for one 50-id call (latency 0): what it adds to every
// call on top of the configured latency, and what its threads serialise under the GIL.
bench_control('/_control/reset', []);
bench_control('/_control/config', ['latency_ms' => 0]);
$service = [];
for ($r = 0; $r < 5; $r++) {
    $t0 = hrtime(true);
    bench_videos_list($take(50));
    $service[] = hrtime(true) - $t0;
}
$out = ['emulator_service_ms' => $ms((int) $median($service)), 'latencies' => []];
$db_seq = 0;
foreach ($latencies as $latency) {
    bench_control('/_control/reset', []);
    bench_control('/_control/config', ['latency_ms' => $latency]);

    $one = [];
    for ($r = 0; $r < max($reps, 3); $r++) {
        $ids = $take(50);
        $warm_emulator($ids, $latency);
        $t0 = hrtime(true);
        $items = bench_videos_list($ids);
        $one[] = hrtime(true) - $t0;
        if (count($items) !== 50) {
            throw new RuntimeException('one upstream call answered ' . count($items) . ' items');
        }
    }
    $one_ms = $ms((int) $median($one));
    $row = ['latency_ms' => $latency, 'one_call_ms' => $one_ms, 'one_call_all_ms' => array_map($ms, $one), 'sizes' => []];

    foreach ($sizes as $n) {
        $runs = [];
        for ($r = 0; $r < $reps; $r++) {
            // Counters from zero for this run (a reset also resets the latency: set it again).
            bench_control('/_control/reset', []);
            bench_control('/_control/config', ['latency_ms' => $latency]);
            $db = sprintf('%s/cold-%d.sqlite', $state, ++$db_seq);
            ini_set('vault_metadata.db_path', $db);
            vault_metadata_fetch_batch($take(1), ['timeout_ms' => 10000]);
            $ids = $take($n);
            $warm_emulator($ids, $latency);
            $c0 = bench_control('/_control/counters?ids=0');
            $t0 = hrtime(true);
            $got = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
            $elapsed = hrtime(true) - $t0;
            $c1 = bench_control('/_control/counters?ids=0');
            $runs[] = [
                'ms' => $ms($elapsed),
                'items' => count($got),
                'videos_calls' => $c1['calls']['videos'] - $c0['calls']['videos'],
                'channels_calls' => $c1['calls']['channels'] - $c0['calls']['channels'],
                'connections_opened' => $c1['connections_opened'] - $c0['connections_opened'] - 1,
                'max_concurrency_seen' => $c1['max_concurrency_seen'],
            ];
        }
        $times = array_column($runs, 'ms');
        $med = $median($times);
        $size_row = [
            'ms' => round($med, 2),
            'ratio' => round($med / $one_ms, 2),
            'all_ms' => $times,
            'items' => min(array_column($runs, 'items')),
            'videos_calls' => max(array_column($runs, 'videos_calls')),
            'channels_calls' => max(array_column($runs, 'channels_calls')),
            'connections_opened' => max(array_column($runs, 'connections_opened')),
            'max_concurrency_seen' => max(array_column($runs, 'max_concurrency_seen')),
        ];
        // The same ceil(n/50) calls sent at once by a minimal client: what the emulator allows.
        $direct = [];
        for ($r = 0; $r < $reps; $r++) {
            $ids = $take($n);
            $warm_emulator($ids, $latency);
            $direct[] = bench_parallel_videos_lists(array_chunk($ids, 50));
        }
        $size_row['direct_parallel_ms'] = $ms((int) $median($direct));
        $size_row['vs_direct'] = round($med / $size_row['direct_parallel_ms'], 2);
        if ($with_plain) {
            $cache = new PlainCache(sprintf('%s/cold-plain-%d.sqlite', $state, ++$db_seq));
            $ids = $take($n);
            $t0 = hrtime(true);
            $got = $cache->fetch_batch($ids);
            $size_row['plain_ms'] = $ms(hrtime(true) - $t0);
            $size_row['plain_items'] = count($got);
            unset($cache);
        }
        $row['sizes'][(string) $n] = $size_row;
    }
    $out['latencies'][(string) $latency] = $row;
}
bench_control('/_control/reset', []);
echo json_encode($out, JSON_PRETTY_PRINT), "\n";
