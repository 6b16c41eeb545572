<?php
/**
 * vault-cli: the operator's view of vault_metadata on one host, run over SSH.
 *
 *   sudo -u www-data php -d extension=vault_metadata.so php-examples/vault-cli.php status
 *
 * It reads the same INI as the workers when it runs with the same php.ini (or the same -d
 * settings): db_path above all, since the quota ledger, the event ring and the one-minute
 * aggregates are host-wide files beside the cache. Run it as the pool's user: a file it
 * creates as root (a cache that did not exist yet) would not be writable by the workers.
 * Run `php php-examples/vault-cli.php --help` for the commands and the exit codes.
 *
 * Nothing it prints holds the API key (shown as set / not set) or a password in a URL.
 */

declare(strict_types=1);

const VAULT_CLI_OK = 0;       // done; the host is healthy
const VAULT_CLI_PROBLEM = 1;  // an operational problem (see --help)
const VAULT_CLI_USAGE = 2;    // bad command line, unreadable file, extension not loaded

final class VaultCliUsage extends \RuntimeException
{
}

function vault_cli_help(): string
{
    return <<<'TXT'
    vault-cli: inspect vault_metadata on this host.

    Usage:
      php [-d extension=vault_metadata.so] [-d vault_metadata.SETTING=VALUE ...] vault-cli.php COMMAND [OPTIONS]

    Commands:
      status                 health, versions, settings (API key masked), connection pool, background
                             thread, refresh-lease holder (background leader), last upstream success
                             and error, quota, last minute pushed to VictoriaMetrics
      quota                  today's upstream quota (host-wide): limit, used, remaining, reset
      events [--id ID]       the host's call events of the last 60 s, newest first; --id keeps one
                             correlation id (24 lowercase hex characters); --limit N (default 50,
                             text output only)
      stats [--minutes N]    one-minute aggregates of the last N minutes (1-60, default 5), newest
                             first, and their total
      backfill FILE [--chunk N] [--timeout-ms N] [--max-age S] [--keep-units N]
                             fetches the video ids of FILE (one a line; "-" = stdin; blank lines and
                             #comments ignored; invalid ids and duplicates skipped and counted) through
                             vault_metadata_fetch_batch, N ids a call (default 500, at most
                             vault_metadata.max_batch), waiting up to --timeout-ms per call (default
                             120000). Stops before the quota is exhausted, or when --keep-units
                             units (default 0) would be all that is left for the site. A progress bar
                             on stderr when it is a terminal; a summary: fetched / known / stale /
                             missing / skipped, and the quota units used before and after.
      help                   this text

    Options:
      --json                 one JSON document on stdout instead of text (also for errors)
      --no-progress          no progress bar (backfill)

    Exit codes:
      0  done; the host is healthy
      1  an operational problem: status: health not ok (cache unwritable or unreachable, background
         thread dead); quota: the day is exhausted; backfill: stopped by the quota, or a call met
         upstream errors (the summary says which)
      2  usage: unknown command or option, bad value, unreadable FILE, extension not loaded

    The quota, the event ring and the aggregates are shared by every worker of the host through
    files beside vault_metadata.db_path: give the CLI the same db_path as the pool.
    TXT;
}

/* ------------------------------------------------------------------------------ arguments */

/** @return array{0: ?string, 1: list<string>, 2: array<string, string|bool>} */
function vault_cli_parse(array $argv): array
{
    $valued = ['id', 'minutes', 'chunk', 'timeout-ms', 'max-age', 'keep-units', 'limit'];
    $flags = ['json', 'no-progress', 'help'];
    $command = null;
    $positional = [];
    $options = [];
    $args = array_slice($argv, 1);
    for ($i = 0; $i < count($args); $i++) {
        $arg = $args[$i];
        if ($arg === '-h') {
            $options['help'] = true;
            continue;
        }
        if (strncmp($arg, '--', 2) === 0 && $arg !== '--') {
            $name = substr($arg, 2);
            $value = null;
            if (($eq = strpos($name, '=')) !== false) {
                $value = substr($name, $eq + 1);
                $name = substr($name, 0, $eq);
            }
            if (in_array($name, $flags, true)) {
                if ($value !== null) throw new VaultCliUsage("--$name takes no value");
                $options[$name] = true;
            } elseif (in_array($name, $valued, true)) {
                if ($value === null) {
                    if (!array_key_exists($i + 1, $args)) throw new VaultCliUsage("--$name needs a value");
                    $value = $args[++$i];
                }
                $options[$name] = $value;
            } else {
                throw new VaultCliUsage("unknown option --$name");
            }
            continue;
        }
        if ($command === null) {
            $command = $arg;
        } else {
            $positional[] = $arg;
        }
    }
    return [$command, $positional, $options];
}

function vault_cli_int(array $options, string $name, int $default, int $min, int $max): int
{
    if (!array_key_exists($name, $options)) return $default;
    $raw = (string)$options[$name];
    if (preg_match('/^[0-9]+$/', $raw) !== 1 || strlen($raw) > 12) {
        throw new VaultCliUsage("--$name must be a whole number, \"$raw\" given");
    }
    $value = (int)$raw;
    if ($value < $min || $value > $max) throw new VaultCliUsage("--$name must be between $min and $max, $value given");
    return $value;
}

function vault_cli_allow(array $options, array $allowed, string $command): void
{
    foreach (array_keys($options) as $name) {
        if (!in_array($name, array_merge($allowed, ['json', 'help']), true)) {
            throw new VaultCliUsage("--$name is not an option of $command");
        }
    }
}

/* ------------------------------------------------------------------------------ output */

function vault_cli_json($data): string
{
    return json_encode($data, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
        | JSON_PRESERVE_ZERO_FRACTION | JSON_INVALID_UTF8_SUBSTITUTE) . "\n";
}

function vault_cli_time(?int $unix): string
{
    if ($unix === null || $unix <= 0) return 'never';
    $ago = time() - $unix;
    $when = gmdate('Y-m-d H:i:s', $unix) . ' UTC';
    if ($ago >= 0 && $ago < 86400 * 2) return sprintf('%s (%ds ago)', $when, $ago);
    if ($ago < 0 && -$ago < 86400 * 2) return sprintf('%s (in %ds)', $when, -$ago);
    return $when;
}

function vault_cli_bool(bool $v): string
{
    return $v ? 'yes' : 'no';
}

/** A URL with its user information replaced: passwords never reach a terminal. */
function vault_cli_mask_url(string $url): string
{
    return (string)preg_replace('~^([a-z][a-z0-9+.-]*://)[^/@]*@~i', '$1***@', $url);
}

/* ------------------------------------------------------------------------------ facts */

/** Settings of the vault_metadata.* INI entries, secrets masked. */
function vault_cli_settings(): array
{
    $out = [];
    foreach (ini_get_all('vault_metadata', false) as $name => $value) {
        $short = substr($name, strlen('vault_metadata.'));
        $value = (string)$value;
        if ($short === 'api_key') {
            $env = getenv('VAULT_YOUTUBE_API_KEY');
            $value = $value !== '' ? 'set' : (is_string($env) && $env !== '' ? 'set (VAULT_YOUTUBE_API_KEY)' : 'not set');
        } elseif (in_array($short, ['redis_url', 'metrics_url', 'indexnow_endpoint', 'api_base'], true)) {
            $value = vault_cli_mask_url($value);
        }
        $out[$short] = $value;
    }
    ksort($out);
    if (($out['db_path'] ?? '') === '') $out['db_path'] = '(default) ' . vault_cli_db_path();
    if (($out['quota_path'] ?? '') === '') $out['quota_path'] = '(default) ' . vault_cli_db_path() . '.quota';
    return $out;
}

/** The cache path the extension uses (its default is vault_metadata.sqlite in the temp dir). */
function vault_cli_db_path(): string
{
    $path = (string)ini_get('vault_metadata.db_path');
    return $path !== '' ? $path : rtrim(sys_get_temp_dir(), '/') . '/vault_metadata.sqlite';
}

/** The rows of the extension's phpinfo() table: the library versions. */
function vault_cli_versions(): array
{
    ob_start();
    (new ReflectionExtension('vault_metadata'))->info();
    $text = (string)ob_get_clean();
    $versions = ['php' => PHP_VERSION, 'extension' => (string)phpversion('vault_metadata')];
    foreach (['libuv', 'libcurl', 'SQLite', 'msgpack-c', 'simdjson'] as $lib) {
        if (preg_match('/^' . preg_quote($lib, '/') . ' => (.+)$/m', $text, $m)) {
            $versions[strtolower($lib)] = trim(strip_tags($m[1]));
        } elseif (preg_match('~<td class="e">' . preg_quote($lib, '~') . '\s*</td><td class="v">([^<]*)~', $text, $m)) {
            $versions[strtolower($lib)] = trim($m[1]);
        }
    }
    return $versions;
}

/**
 * The holder of the 'refresh' lease (the process that runs the background refresh, the WAL
 * checkpoints and the metrics push) and the last minute pushed, read from the cache (read-only).
 */
function vault_cli_leader(string $db_path): array
{
    $out = ['holder' => null, 'host' => null, 'pid' => null, 'expires_at' => null, 'valid' => false,
            'process_alive' => null, 'metrics_pushed_through' => null, 'error' => null];
    if (!class_exists('SQLite3')) {
        $out['error'] = 'the sqlite3 PHP extension is not loaded (php8.2-sqlite3): lease not read';
        return $out;
    }
    if (!is_file($db_path)) {
        $out['error'] = 'no cache file yet';
        return $out;
    }
    try {
        $db = new SQLite3($db_path, SQLITE3_OPEN_READONLY);
        $db->enableExceptions(true);
        $db->busyTimeout(2000);
        $row = $db->querySingle("SELECT holder, expires_at FROM leases WHERE name = 'refresh'", true);
        if (is_array($row) && $row) {
            $out['holder'] = (string)$row['holder'];
            $out['expires_at'] = (int)$row['expires_at'];
            $out['valid'] = $out['expires_at'] >= time();
            $colon = strrpos($out['holder'], ':');
            if ($colon !== false) {
                $out['host'] = substr($out['holder'], 0, $colon);
                $out['pid'] = (int)substr($out['holder'], $colon + 1);
                if ($out['host'] === gethostname()) $out['process_alive'] = is_dir('/proc/' . $out['pid']);
            }
        }
        $pushed = $db->querySingle("SELECT value FROM markers WHERE name = 'metrics_pushed_through_ms'");
        if ($pushed !== null && $pushed !== false) $out['metrics_pushed_through'] = intdiv((int)$pushed, 1000);
        $db->close();
    } catch (\Throwable $e) {
        $out['error'] = 'cache not readable: ' . $e->getMessage();
    }
    return $out;
}

/** A warning when root would create files the workers cannot write. */
function vault_cli_owner_warning(string $db_path): ?string
{
    if (!function_exists('posix_geteuid') || posix_geteuid() !== 0) return null;
    $dir = dirname($db_path);
    $owner = @fileowner(is_file($db_path) ? $db_path : $dir);
    if ($owner === false || $owner === 0) return null;
    $name = function_exists('posix_getpwuid') ? (posix_getpwuid($owner)['name'] ?? (string)$owner) : (string)$owner;
    return "running as root: a file created now would belong to root; prefer sudo -u $name";
}

/* ------------------------------------------------------------------------------ commands */

function vault_cli_status(bool $json): int
{
    $health = vault_metadata_health();
    $db_path = vault_cli_db_path();
    $leader = vault_cli_leader($db_path);
    $data = [
        'ok' => (bool)$health['ok'],
        'host' => gethostname(),
        'versions' => vault_cli_versions(),
        'settings' => vault_cli_settings(),
        'cache' => ['path' => $db_path] + $health['cache'],
        'pool' => $health['pool'] + ['scope' => 'this CLI process'],
        'background_thread' => $health['background_thread'] + ['scope' => 'this CLI process'],
        'background_leader' => $leader,
        'upstream' => $health['upstream'],
        'quota' => $health['quota'],
        'telemetry_shared' => (bool)($health['telemetry_shared'] ?? false),
    ];
    if ($warning = vault_cli_owner_warning($db_path)) $data['warning'] = $warning;
    if ($json) {
        echo vault_cli_json($data);
    } else {
        $v = $data['versions'];
        $u = $data['upstream'];
        $q = $data['quota'];
        $lines = [
            'health'            => $data['ok'] ? 'OK' : 'NOT OK',
            'host'              => $data['host'],
            'versions'          => implode(', ', array_map(fn($k) => "$k " . $v[$k], array_keys($v))),
            'cache'             => $db_path . ' (' . ($health['cache']['reachable'] ? 'reachable' : 'NOT reachable')
                                   . ($health['cache']['error'] ? ': ' . $health['cache']['error'] : '') . ')',
            'pool'              => sprintf('size %d, open %d, idle %d (this process)', $health['pool']['size'],
                                           $health['pool']['open'], $health['pool']['idle']),
            'background thread' => ($health['background_thread']['alive'] ? 'alive' : 'DEAD') . ' (this process)',
            'background leader' => $leader['holder'] === null
                ? 'none' . ($leader['error'] ? ' (' . $leader['error'] . ')' : '')
                : sprintf('%s, lease %s %s%s', $leader['holder'], $leader['valid'] ? 'valid until' : 'EXPIRED at',
                          vault_cli_time($leader['expires_at']),
                          $leader['process_alive'] === false ? ', process gone' : ''),
            'metrics pushed'    => $leader['metrics_pushed_through'] !== null
                ? 'through the minute of ' . vault_cli_time($leader['metrics_pushed_through'])
                : (($data['settings']['metrics_url'] ?? '') === '' ? 'off (metrics_url empty)' : 'not yet'),
            'last upstream ok'  => vault_cli_time($u['last_success_at']),
            'last upstream err' => $u['last_error_at'] ? vault_cli_time($u['last_error_at']) . ', ' . $u['last_error_class'] : 'never',
            'quota'             => sprintf('%d of %d used, %d left%s, resets %s', $q['used'], $q['limit'], $q['remaining'],
                                           $q['exhausted'] ? ' (EXHAUSTED)' : '', vault_cli_time($q['resets_at'])),
            'telemetry'         => $data['telemetry_shared'] ? 'host-wide file' : 'NOT shared (this process only)',
        ];
        foreach ($lines as $k => $line) printf("%-18s %s\n", $k . ':', $line);
        echo "settings:\n";
        foreach ($data['settings'] as $k => $value) printf("  %-24s %s\n", $k, $value === '' ? '(empty)' : $value);
        if (isset($data['warning'])) fwrite(STDERR, 'warning: ' . $data['warning'] . "\n");
    }
    return $data['ok'] ? VAULT_CLI_OK : VAULT_CLI_PROBLEM;
}

function vault_cli_quota(bool $json): int
{
    $q = vault_metadata_quota();
    if ($json) {
        echo vault_cli_json($q);
    } else {
        printf("limit:     %d\nused:      %d\nremaining: %d\nexhausted: %s\nresets at: %s\nbackend:   %s\n",
               $q['limit'], $q['used'], $q['remaining'], vault_cli_bool($q['exhausted']),
               vault_cli_time($q['resets_at']), $q['backend']);
    }
    return $q['exhausted'] ? VAULT_CLI_PROBLEM : VAULT_CLI_OK;
}

function vault_cli_events(bool $json, array $options): int
{
    $id = (string)($options['id'] ?? '');
    if ($id !== '' && preg_match('/^[0-9a-f]{24}$/', $id) !== 1) {
        throw new VaultCliUsage('--id must be a correlation id: 24 lowercase hex characters');
    }
    $limit = vault_cli_int($options, 'limit', 50, 1, 100000);
    $events = vault_metadata_events($id);
    if ($json) {
        echo vault_cli_json(['correlation_id' => $id === '' ? null : $id, 'count' => count($events), 'events' => $events]);
        return VAULT_CLI_OK;
    }
    printf("%d event(s) in the last 60 s%s\n", count($events), $id === '' ? '' : " for $id");
    if (!$events) return VAULT_CLI_OK;
    printf("%-12s %-24s %-21s %5s %5s %5s %5s %5s %10s %-12s %s\n", 'time (UTC)', 'correlation id', 'function',
           'ids', 'fresh', 'stale', 'refr', 'miss', 'ms', 'error', 'pid');
    foreach (array_slice($events, 0, $limit) as $e) {
        $at = (float)$e['at'];
        printf("%-12s %-24s %-21s %5d %5d %5d %5d %5d %10.3f %-12s %d\n",
               gmdate('H:i:s', (int)$at) . sprintf('.%03d', (int)(fmod($at, 1) * 1000)), $e['correlation_id'],
               $e['function'], $e['ids'], $e['fresh'], $e['stale'], $e['refreshed'], $e['missing'], $e['latency_ms'],
               $e['upstream_error'] ?? '-', $e['pid']);
    }
    if (count($events) > $limit) printf("... %d more (--limit)\n", count($events) - $limit);
    return VAULT_CLI_OK;
}

function vault_cli_stats(bool $json, array $options): int
{
    $minutes = vault_cli_int($options, 'minutes', 5, 1, 60);
    $stats = vault_metadata_stats($minutes);
    if ($json) {
        echo vault_cli_json(['minutes_asked' => $minutes] + $stats);
        return VAULT_CLI_OK;
    }
    printf("%-16s %6s %7s %6s %6s %6s %6s %6s %9s %9s %9s %6s %6s  %s\n", 'minute (UTC)', 'calls', 'ids', 'fresh',
           'stale', 'refr', 'miss', 'hit%', 'p50 ms', 'p95 ms', 'p99 ms', 'up', 'units', 'upstream errors');
    $row = function (string $label, array $m): void {
        $errors = [];
        foreach ($m['upstream_errors'] as $class => $n) {
            if ($n) $errors[] = "$class $n";
        }
        printf("%-16s %6d %7d %6d %6d %6d %6d %6.1f %9.3f %9.3f %9.3f %6d %6d  %s\n", $label, $m['calls'], $m['ids'],
               $m['fresh'], $m['stale'], $m['refreshed'], $m['missing'], 100 * $m['cache_hit_ratio'],
               $m['latency_ms']['p50'], $m['latency_ms']['p95'], $m['latency_ms']['p99'], $m['upstream_calls'],
               $m['quota_units'], $errors ? implode(', ', $errors) : '-');
    };
    foreach ($stats['minutes'] as $m) $row(gmdate('Y-m-d H:i', $m['minute_start']), $m);
    $row("total ($minutes min)", $stats['total']);
    if (!$stats['shared']) fwrite(STDERR, "warning: telemetry is not shared: these are this process's numbers only\n");
    return VAULT_CLI_OK;
}

/* ------------------------------------------------------------------------------ backfill */

function vault_cli_read_ids(string $file): array
{
    if ($file === '-') {
        $text = stream_get_contents(STDIN);
    } else {
        if (!is_file($file) || !is_readable($file)) throw new VaultCliUsage("cannot read $file");
        $text = file_get_contents($file);
    }
    if ($text === false) throw new VaultCliUsage("cannot read $file");
    $ids = [];
    $seen = [];
    $lines = $invalid = $duplicates = 0;
    foreach (preg_split('/\r\n|\n|\r/', $text) as $line) {
        $line = trim($line);
        if ($line === '' || $line[0] === '#') continue;
        $lines++;
        if (preg_match('/^[A-Za-z0-9_-]{11}$/', $line) !== 1) {
            $invalid++;
        } elseif (isset($seen[$line])) {
            $duplicates++;
        } else {
            $seen[$line] = true;
            $ids[] = $line;
        }
    }
    return [$ids, $lines, $invalid, $duplicates];
}

function vault_cli_progress(array $s, int $total, float $started): void
{
    $done = $s['fetched'] + $s['known'] + $s['stale'] + $s['missing'];
    $width = 30;
    $fill = $total ? (int)floor($width * $done / $total) : $width;
    $rate = $done / max(microtime(true) - $started, 0.001);
    fprintf(STDERR, "\r[%s%s] %d/%d %3d%%  fetched %d  known %d  missing %d  %.0f ids/s ",
            str_repeat('#', $fill), str_repeat('.', $width - $fill), $done, $total,
            $total ? (int)floor(100 * $done / $total) : 100, $s['fetched'], $s['known'], $s['missing'], $rate);
}

function vault_cli_backfill(bool $json, array $positional, array $options): int
{
    if (count($positional) !== 1) throw new VaultCliUsage('backfill needs exactly one FILE (or - for stdin)');
    $max_batch = max(1, (int)ini_get('vault_metadata.max_batch'));
    $chunk = vault_cli_int($options, 'chunk', min(500, $max_batch), 1, $max_batch);
    $timeout_ms = vault_cli_int($options, 'timeout-ms', 120000, 1, 3600000);
    $keep = vault_cli_int($options, 'keep-units', 0, 0, PHP_INT_MAX >> 1);
    $fetch_options = ['timeout_ms' => $timeout_ms];
    if (array_key_exists('max-age', $options)) {
        $fetch_options['max_age'] = vault_cli_int($options, 'max-age', 0, 0, PHP_INT_MAX >> 1);
    }
    [$ids, $lines, $invalid, $duplicates] = vault_cli_read_ids($positional[0]);
    $progress = empty($options['no-progress']) && function_exists('stream_isatty') && stream_isatty(STDERR);

    $started = microtime(true);
    $before = vault_metadata_quota();
    $s = ['file' => $positional[0], 'lines' => $lines, 'valid' => count($ids), 'skipped_invalid' => $invalid,
          'skipped_duplicates' => $duplicates, 'fetched' => 0, 'known' => 0, 'stale' => 0, 'missing' => 0,
          'not_attempted' => 0, 'calls' => 0, 'upstream_errors' => [], 'stopped' => null,
          'units_used_before' => $before['used'], 'units_used_after' => null, 'units_spent' => null,
          'quota_remaining_after' => null, 'quota_limit' => $before['limit'], 'elapsed_s' => null];

    $next = 0;
    $total = count($ids);
    if ($progress) vault_cli_progress($s, $total, $started);
    while ($next < $total) {
        $q = vault_metadata_quota();
        $spendable = $q['exhausted'] ? 0 : $q['remaining'] - $keep;
        if ($spendable <= 0) {
            $s['stopped'] = $q['exhausted'] || $q['remaining'] <= 0 ? 'quota_exhausted' : 'keep_units';
            break;
        }
        // A call of n ids costs at most ceil(n / 50) units: never ask for more than is left.
        $n = min($chunk, $total - $next, $spendable * 50);
        $batch = array_slice($ids, $next, $n);
        $next += $n;
        $answer = vault_metadata_fetch_batch_detailed($batch, $fetch_options);
        $s['calls']++;
        $s['known'] += count($answer['fresh']);
        $s['fetched'] += count($answer['stale_refreshed']);
        $s['stale'] += count($answer['stale']);
        $s['missing'] += count($answer['missing']);
        foreach (vault_metadata_events($answer['correlation_id']) as $event) {
            if ($event['upstream_error'] !== null) {
                $s['upstream_errors'][$event['upstream_error']] = ($s['upstream_errors'][$event['upstream_error']] ?? 0) + 1;
            }
        }
        if ($progress) vault_cli_progress($s, $total, $started);
    }
    if ($progress) fwrite(STDERR, "\n");
    $s['not_attempted'] = $total - $next;
    $after = vault_metadata_quota();
    $s['units_used_after'] = $after['used'];
    $s['units_spent'] = $after['used'] - $before['used'];  // host-wide: the workers' spending counts too
    $s['quota_remaining_after'] = $after['remaining'];
    $s['elapsed_s'] = round(microtime(true) - $started, 3);
    if ($s['stopped'] === null && $after['exhausted'] && ($s['stale'] || $s['missing'])) $s['stopped'] = 'quota_exhausted';
    $problem = $s['stopped'] !== null || $s['upstream_errors'];
    $s['ok'] = !$problem;

    if ($json) {
        echo vault_cli_json($s);
    } else {
        printf("backfill of %s: %d line(s), %d valid, skipped %d invalid and %d duplicate(s)\n", $s['file'], $lines,
               $s['valid'], $invalid, $duplicates);
        printf("fetched %d, known %d, stale %d, missing %d, not attempted %d, in %d call(s), %.1f s\n", $s['fetched'],
               $s['known'], $s['stale'], $s['missing'], $s['not_attempted'], $s['calls'], $s['elapsed_s']);
        printf("quota units used today: %d before, %d after (%d spent on this host meanwhile), %d left of %d\n",
               $s['units_used_before'], $s['units_used_after'], $s['units_spent'], $s['quota_remaining_after'],
               $s['quota_limit']);
        if ($s['upstream_errors']) {
            $parts = [];
            foreach ($s['upstream_errors'] as $class => $n) $parts[] = "$class: $n call(s)";
            echo 'upstream errors: ', implode(', ', $parts), "\n";
        }
        if ($s['stopped'] === 'quota_exhausted') echo "STOPPED: the quota is exhausted; run again after the reset\n";
        if ($s['stopped'] === 'keep_units') echo "STOPPED: only --keep-units units are left for the site\n";
    }
    return $problem ? VAULT_CLI_PROBLEM : VAULT_CLI_OK;
}

/* ------------------------------------------------------------------------------ main */

function vault_cli_main(array $argv): int
{
    $json = in_array('--json', $argv, true);
    try {
        [$command, $positional, $options] = vault_cli_parse($argv);
        if (!empty($options['help']) || $command === 'help' || $command === null) {
            if ($command === null && empty($options['help'])) {
                fwrite(STDERR, vault_cli_help() . "\n");
                return VAULT_CLI_USAGE;
            }
            echo vault_cli_help(), "\n";
            return VAULT_CLI_OK;
        }
        if (!extension_loaded('vault_metadata')) {
            throw new VaultCliUsage('the vault_metadata extension is not loaded (php -d extension=vault_metadata.so ...)');
        }
        switch ($command) {
            case 'status':
                vault_cli_allow($options, [], $command);
                if ($positional) throw new VaultCliUsage('status takes no argument');
                return vault_cli_status($json);
            case 'quota':
                vault_cli_allow($options, [], $command);
                if ($positional) throw new VaultCliUsage('quota takes no argument');
                return vault_cli_quota($json);
            case 'events':
                vault_cli_allow($options, ['id', 'limit'], $command);
                if ($positional) throw new VaultCliUsage('events takes no argument (use --id ID)');
                return vault_cli_events($json, $options);
            case 'stats':
                vault_cli_allow($options, ['minutes'], $command);
                if ($positional) throw new VaultCliUsage('stats takes no argument (use --minutes N)');
                return vault_cli_stats($json, $options);
            case 'backfill':
                vault_cli_allow($options, ['chunk', 'timeout-ms', 'max-age', 'keep-units', 'no-progress'], $command);
                return vault_cli_backfill($json, $positional, $options);
            default:
                throw new VaultCliUsage("unknown command \"$command\"");
        }
    } catch (VaultCliUsage $e) {
        if ($json) {
            echo vault_cli_json(['ok' => false, 'error' => 'usage', 'message' => $e->getMessage()]);
        }
        fwrite(STDERR, 'vault-cli: ' . $e->getMessage() . "\n(see --help)\n");
        return VAULT_CLI_USAGE;
    } catch (\Throwable $e) {
        // A programming error or an extension refusing input: say so without a stack of arguments.
        if ($json) echo vault_cli_json(['ok' => false, 'error' => get_class($e), 'message' => $e->getMessage()]);
        fwrite(STDERR, 'vault-cli: ' . get_class($e) . ': ' . $e->getMessage() . "\n");
        return VAULT_CLI_PROBLEM;
    }
}

if (PHP_SAPI !== 'cli') {
    http_response_code(404);
    return;
}
exit(vault_cli_main($argv));
