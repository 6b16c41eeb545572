<?php
// The php-fpm controller of the fpm row: one warm 50-id fetch per request, a small JSON answer.
//   GET /controller.php                one call
//   GET /controller.php?loop=N         N calls in this request (to reach 100,000 calls quickly)
//   GET /controller.php?impl=plain     the plain-PHP baseline (PDO SQLite + msgpack_unpack) instead
// The ids come from the PHP file named by BENCH_IDS_PHP (opcache keeps it as an immutable array).

declare(strict_types=1);

$ids = require getenv('BENCH_IDS_PHP');
$loop = max(1, min((int) ($_GET['loop'] ?? 1), 100000));
if (($_GET['impl'] ?? 'ext') === 'plain') {
    require_once __DIR__ . '/plain_php.php';
    $cache = new PlainCache(getenv('BENCH_PLAIN_DB'), 3600, true);  // a persistent PDO per worker
    $fetch = static fn () => $cache->fetch_batch($ids);
} else {
    $fetch = static fn () => vault_metadata_fetch_batch($ids);
}
for ($i = 0; $i < $loop; $i++) {
    $meta = $fetch();
}
header('Content-Type: application/json');
echo json_encode(['pid' => getmypid(), 'calls' => $loop, 'items' => count($meta),
                  'first' => $meta[$ids[0]]['title'] ?? null]), "\n";
