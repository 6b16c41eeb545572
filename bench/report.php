<?php
// Turns the JSON of one run (bench/results/*.json) into the markdown report and the
// gnuplot data of the warm plot.
//   php bench/report.php RESULTS_DIR     prints the markdown; writes RESULTS_DIR/warm.dat

declare(strict_types=1);

$dir = $argv[1] ?? __DIR__ . '/results';
$load = static function (string $name) use ($dir): ?array {
    $f = "$dir/$name.json";
    return is_file($f) ? json_decode(file_get_contents($f), true, 512, JSON_THROW_ON_ERROR) : null;
};
$meta = $load('meta') ?? [];
$warm = [];
foreach (['ext', 'socket', 'plain', 'floor-copy', 'floor-static'] as $impl) {
    $warm[$impl] = $load("warm-$impl");
}
$cold = $load('cold');
$fpm = $load('fpm');
$cg = $load('callgrind');

$us = static fn (?float $v) => $v === null ? '–' : ($v >= 100 ? number_format($v, 0) : ($v >= 10 ? number_format($v, 1) : number_format($v, 2)));
$int = static fn ($v) => $v === null ? '–' : number_format((float) $v, 0, '.', ',');
$x = static fn (float $v) => ($v >= 10 ? number_format($v, 0) : number_format($v, 2)) . '×';
$verdict = static fn (bool $ok) => $ok ? '**met**' : '**not met**';

$labels = [
    'ext' => '`vault_metadata_fetch_batch()`',
    'socket' => '(a) socket service, msgpack (replaced design)',
    'plain' => '(b) plain PHP: PDO SQLite + msgpack_unpack',
    'floor-copy' => 'floor: prebuilt item arrays handed over',
    'floor-static' => 'floor: a static array returned (call only)',
];
$md = [];
$md[] = '# vault_metadata benchmark';
$md[] = '';
$md[] = sprintf('%s · %s run · %s · PHP %s · SQLite %s · extension %s · load average at start %s',
    $meta['date'] ?? '?', $meta['mode'] ?? '?', $meta['cpu'] ?? '?', $meta['php'] ?? '?', $meta['sqlite'] ?? '?',
    $meta['so'] ?? '?', $meta['loadavg'] ?? '?');
$md[] = '';

// ------------------------------------------------------------------ warm
$ext = $warm['ext']['sizes'] ?? [];
$sizes = array_keys($ext);
if ($ext) {
    $md[] = '## Warm batch (every id cached; µs per call, hrtime around each call)';
    $md[] = '';
    $md[] = '| ids | implementation | p50 µs | p95 µs | p99 µs | calls/s | result B/call | peak B/call | p50 compared |';
    $md[] = '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |';
    foreach ($sizes as $n) {
        foreach ($warm as $impl => $data) {
            $r = $data['sizes'][$n] ?? null;
            if (!$r) {
                continue;
            }
            $e = $ext[$n]['p50_us'];
            if ($impl === 'ext') {
                $cmp = '';
            } elseif ($impl === 'floor-static') {
                $cmp = 'the cost of a PHP call + timer';
            } elseif ($impl === 'floor-copy') {
                $cmp = 'extension at ' . $x($e / max($r['p50_us'], 0.001)) . ' this';
            } else {
                $ratio = $r['p50_us'] / $e;
                $cmp = $ratio >= 1 ? 'extension ' . $x($ratio) . ' faster' : 'extension ' . $x(1 / $ratio) . ' **slower**';
            }
            $md[] = sprintf('| %s | %s | %s | %s | %s | %s | %s | %s | %s |', $n, $labels[$impl], $us($r['p50_us']),
                $us($r['p95_us']), $us($r['p99_us']), $int($r['calls_per_s']), $int($r['result_bytes']),
                $int($r['peak_bytes']), $cmp);
        }
    }
    $md[] = '';
    $md[] = sprintf('Iterations per row: %s (extension), %s (socket), %s (plain), after %s untimed. '
        . 'calls/s = 1 / mean. B/call: Zend heap only (memory_get_usage), see bench/README.md.',
        $int($warm['ext']['sizes'][$sizes[0]]['iterations'] ?? null),
        $int($warm['socket']['sizes'][$sizes[0]]['iterations'] ?? null),
        $int($warm['plain']['sizes'][$sizes[0]]['iterations'] ?? null), $meta['warmup'] ?? '10%');
    $md[] = '';
}

// ------------------------------------------------------------------ targets
$targets = [];
$big = (string) max(array_map('intval', $sizes ?: [0]));
if (isset($ext[$big])) {
    $e = $ext[$big];
    if (isset($warm['socket']['sizes'][$big])) {
        $r = $warm['socket']['sizes'][$big]['p50_us'] / $e['p50_us'];
        $targets[] = ["warm $big-id p50 ≥ 20× faster than the socket service", $x($r), $verdict($r >= 20)];
    }
    if (isset($warm['plain']['sizes'][$big])) {
        $r = $warm['plain']['sizes'][$big]['p50_us'] / $e['p50_us'];
        $targets[] = ["warm $big-id p50 ≥ 10× faster than plain PHP", $x($r), $verdict($r >= 10)];
    }
    $targets[] = ["warm $big-id p99 < 100 µs", $us($e['p99_us']) . ' µs', $verdict($e['p99_us'] < 100)];
}
$c1000 = $cold['latencies']['100']['sizes']['1000'] ?? null;
if ($c1000) {
    $targets[] = ['cold 1,000 ids at 100 ms < 1.3× one upstream call', $x($c1000['ratio']), $verdict($c1000['ratio'] < 1.3)];
}
if ($fpm) {
    $worst = max(array_map(static fn ($w) => abs($w['change_pct']), $fpm['workers']));
    $targets[] = [sprintf('RSS flat (±5%%) from %s to %s calls per worker', $int($fpm['rss_first_calls']),
        $int($fpm['rss_last_calls'])), sprintf('%+.1f%% worst worker', $worst), $verdict($worst <= 5)];
}
if ($targets) {
    $md[] = '## Targets';
    $md[] = '';
    $md[] = '| target | measured | |';
    $md[] = '| --- | ---: | --- |';
    foreach ($targets as $t) {
        $md[] = '| ' . implode(' | ', $t) . ' |';
    }
    $md[] = '';
}

// ------------------------------------------------------------------ cold
if ($cold) {
    $md[] = '## Cold batch (no id cached; ms for the whole call)';
    $md[] = '';
    $md[] = '| emulator latency | ids | one upstream call (50 ids) | vault_metadata | ratio | same calls sent at once, direct | vault_metadata / direct | videos.list calls (+ channels.list) | max concurrency seen | new connections | plain PHP (sequential) |';
    $md[] = '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
    foreach ($cold['latencies'] as $lat => $row) {
        foreach ($row['sizes'] as $n => $r) {
            $md[] = sprintf('| %s ms | %s | %s ms | %s ms | %s | %s ms | %s | %d%s | %d | %d | %s |', $lat, $int($n),
                $row['one_call_ms'], $r['ms'], $x($r['ratio']), $r['direct_parallel_ms'] ?? '–',
                isset($r['vs_direct']) ? $x($r['vs_direct']) : '–', $r['videos_calls'],
                !empty($r['channels_calls']) ? " (+ {$r['channels_calls']})" : '', $r['max_concurrency_seen'],
                $r['connections_opened'], isset($r['plain_ms']) ? $r['plain_ms'] . ' ms' : '–');
        }
    }
    $md[] = '';
    $md[] = sprintf('Median of %d run(s) each (all: see cold.json); ratio = vault_metadata / one upstream call; '
        . '"direct" = the same ⌈n/50⌉ calls sent at once by a minimal PHP client, the least this emulator allows. '
        . 'The emulator itself takes %s ms to answer one 50-id call at latency 0 (Python: its threads share one '
        . 'interpreter lock, so 20 parallel calls are served largely one after another).',
        count(reset($cold['latencies'])['sizes'][array_key_first(reset($cold['latencies'])['sizes'])]['all_ms']),
        $cold['emulator_service_ms'] ?? '?');
    $md[] = '';
}

// ------------------------------------------------------------------ fpm
if ($fpm) {
    $md[] = sprintf('## php-fpm (2 static workers) behind nginx, wrk %d s, %d connections, warm 50-id controller',
        $fpm['wrk_seconds'], $fpm['wrk_connections']);
    $md[] = '';
    $md[] = '| controller | requests/s | p50 ms | p90 ms | p99 ms | non-2xx |';
    $md[] = '| --- | ---: | ---: | ---: | ---: | ---: |';
    foreach (['ext' => $labels['ext'], 'plain' => $labels['plain']] as $k => $label) {
        $w = $fpm[$k];
        $md[] = sprintf('| %s | %s | %s | %s | %s | %d |', $label, $int($w['requests_per_s']), $w['p50_ms'], $w['p90_ms'],
            $w['p99_ms'], $w['non_2xx']);
    }
    $md[] = '';
    $md[] = sprintf('| worker | RSS after wrk | after ≥ %s calls | after ≥ %s calls | change |', $int($fpm['rss_first_calls']),
        $int($fpm['rss_last_calls']));
    $md[] = '| ---: | ---: | ---: | ---: | ---: |';
    foreach ($fpm['workers'] as $w) {
        $md[] = sprintf('| pid %d (%s calls) | %s kB | %s kB | %s kB | %+.2f%% |', $w['pid'], $int($w['calls']),
            $int($w['rss_start_kb']), $int($w['rss_first_kb']), $int($w['rss_last_kb']), $w['change_pct']);
    }
    $md[] = '';
}

// ------------------------------------------------------------------ callgrind
if ($cg) {
    $md[] = sprintf('## Instructions of the warm %d-id call (callgrind; deterministic)', $cg['size']);
    $md[] = '';
    $md[] = sprintf('**%s instructions per call** ((Ir of %s calls − Ir of 0 calls) / %s); %s of them inside '
        . '`vault_metadata_fetch_batch()` (toggle-collect); syscalls per call: **%s** (strace -c, same method: %s).',
        $int($cg['ir_per_call']), $int($cg['calls']), $int($cg['calls']), $int($cg['ir_inside_per_call']),
        $cg['syscalls_per_call'], implode(', ', array_map(static fn ($k, $v) => "$k $v", array_keys($cg['syscalls']),
            $cg['syscalls'])) ?: 'none');
    $md[] = '';
    $md[] = 'By library (self Ir inside the call): ' . implode(', ', array_map(
        static fn ($o) => sprintf('%s %s%%', preg_replace('/\.so.*$/', '', $o['object']), $o['pct']),
        array_filter($cg['by_object'], static fn ($o) => $o['pct'] >= 0.5)));
    $md[] = '';
    $md[] = '| function (inclusive, in the extension) | Ir per call | % | | function (self) | Ir per call | % |';
    $md[] = '| --- | ---: | ---: | --- | --- | ---: | ---: |';
    $rows = max(count($cg['inclusive']), count($cg['top']));
    for ($i = 0; $i < $rows; $i++) {
        $a = $cg['inclusive'][$i] ?? null;
        $b = $cg['top'][$i] ?? null;
        $md[] = sprintf('| %s | %s | %s | | %s | %s | %s |', $a ? '`' . $a['function'] . '`' : '', $a ? $int($a['ir_per_call']) : '',
            $a ? $a['pct'] : '', $b ? '`' . $b['function'] . '` (' . preg_replace('/\.so.*$/', '', $b['object']) . ')' : '',
            $b ? $int($b['ir_per_call']) : '', $b ? $b['pct'] : '');
    }
    $md[] = '';
}
$md[] = 'Regenerate: `bench/run.sh` (`--quick` for a short run, `--publish` to update docs/bench-warm.png). '
    . 'What each row measures: bench/README.md.';
echo implode("\n", $md), "\n";

// ------------------------------------------------------------------ plot data
if ($ext) {
    $cols = ['ext', 'socket', 'plain', 'floor-copy'];
    $lines = ['# ids ' . implode(' ', array_map(static fn ($c) => "{$c}_p50 {$c}_p99", $cols))];
    foreach ($sizes as $n) {
        $f = [$n];
        foreach ($cols as $c) {
            $r = $warm[$c]['sizes'][$n] ?? null;
            $f[] = $r ? $r['p50_us'] : 'NaN';
            $f[] = $r ? $r['p99_us'] : 'NaN';
        }
        $lines[] = implode(' ', $f);
    }
    file_put_contents("$dir/warm.dat", implode("\n", $lines) . "\n");
}
