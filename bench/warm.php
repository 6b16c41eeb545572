<?php
// Warm-path timings of one implementation at several batch sizes; prints one JSON object.
//
//   php [-d extension=…] bench/warm.php --impl=IMPL [--sizes=1,10,50] [--iterations=N] [--warmup=N]
//
// IMPL: ext          vault_metadata_fetch_batch() (needs the extension and its INI settings)
//       socket       the replaced design: socket_client.php → socket_service.py (BENCH_SOCKET)
//       plain        plain_php.php: PDO SQLite + msgpack_unpack (BENCH_PLAIN_DB)
//       floor-copy   50 prebuilt item arrays handed over as fresh arrays (each one duplicated):
//                    the least any implementation pays to give PHP arrays it did not have
//       floor-static a prebuilt array returned from a closure (refcount only): the call itself
// Ids: the JSON list in BENCH_IDS_FILE; a batch of n is its first n ids, the same for every IMPL.
// Every implementation is filled (made warm) before timing, and checked to answer n items.

declare(strict_types=1);

require_once __DIR__ . '/lib.php';

$opt = getopt('', ['impl:', 'sizes::', 'iterations::', 'warmup::', 'mem-calls::']);
$impl = $opt['impl'] ?? '';
$sizes = array_map('intval', explode(',', $opt['sizes'] ?? '1,10,50'));
$iterations = (int) ($opt['iterations'] ?? 20000);
$warmup = (int) ($opt['warmup'] ?? max(200, intdiv($iterations, 10)));
$mem_calls = (int) ($opt['mem-calls'] ?? 200);
$all_ids = json_decode(file_get_contents(bench_env('BENCH_IDS_FILE')), true, 512, JSON_THROW_ON_ERROR);

switch ($impl) {
    case 'ext':
        if (!function_exists('vault_metadata_fetch_batch')) {
            fwrite(STDERR, "warm.php: the vault_metadata extension is not loaded\n");
            exit(2);
        }
        $make = static fn (array $ids) => static fn () => vault_metadata_fetch_batch($ids);
        vault_metadata_fetch_batch($all_ids);  // fills the cache (cold) once
        break;
    case 'socket':
        require_once __DIR__ . '/socket_client.php';
        $client = new SocketClient(bench_env('BENCH_SOCKET'));
        $make = static fn (array $ids) => static fn () => $client->fetch_batch($ids);
        $client->fetch_batch($all_ids);
        break;
    case 'plain':
        require_once __DIR__ . '/plain_php.php';
        $cache = new PlainCache(bench_env('BENCH_PLAIN_DB'));
        $make = static fn (array $ids) => static fn () => $cache->fetch_batch($ids);
        $cache->fetch_batch($all_ids);
        break;
    case 'floor-copy':
    case 'floor-static':
        $now = time();
        $prebuilt = [];
        foreach (bench_videos_list($all_ids) as $v) {
            $prebuilt[$v['id']] = bench_item_from_api($v) + ['ttl' => 3600, 'fetched_at' => $now, 'stale' => false];
        }
        $make = $impl === 'floor-static'
            ? static function (array $ids) use ($prebuilt) {
                $subset = array_combine($ids, array_map(static fn ($id) => $prebuilt[$id], $ids));
                return static fn () => $subset;
            }
            : static function (array $ids) use ($prebuilt) {
                $subset = array_combine($ids, array_map(static fn ($id) => $prebuilt[$id], $ids));
                return static function () use ($subset) {
                    $out = [];
                    foreach ($subset as $id => $item) {
                        $item['stale'] = false;  // a write separates: $item becomes its own array
                        $out[$id] = $item;
                    }
                    return $out;
                };
            };
        break;
    default:
        fwrite(STDERR, "warm.php: --impl must be ext, socket, plain, floor-copy or floor-static\n");
        exit(2);
}

$out = ['impl' => $impl, 'php' => PHP_VERSION, 'sizes' => []];
foreach ($sizes as $n) {
    $ids = array_slice($all_ids, 0, $n);
    $fn = $make($ids);
    $got = $fn();
    if (count($got) !== $n || array_keys($got) !== $ids) {
        fwrite(STDERR, "warm.php: $impl answered " . count($got) . " of $n ids (or out of order)\n");
        exit(1);
    }
    $r = bench_time($fn, $warmup, $iterations, $mem_calls);
    $out['sizes'][(string) $n] = $r;
}
echo json_encode($out, JSON_PRETTY_PRINT), "\n";
