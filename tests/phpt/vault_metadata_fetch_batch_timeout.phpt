--TEST--
vault_metadata_fetch_batch(): the caller waits at most timeout_ms; a late answer is still written; timeout_ms 0 queues without waiting
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_timeout');

$ids = vm_ids('normal', 4);
// Start the engine (loop thread, cache, quota ledger) first: the timed calls measure waiting.
$warm = vm_ids('normal', 1, 90);
echo 'warm-up: ', count(vault_metadata_fetch_batch($warm, ['timeout_ms' => 10000])), "\n";
$base_calls = vm_calls();
vm_config(['latency_ms' => 1500]);

$t0 = vm_ms();
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 100]);
$elapsed = vm_ms() - $t0;
echo 'late: ', json_encode($items), "\n";
echo 'returned in well under 1500 ms: ', json_encode($elapsed < 1100), "\n";
$d = vault_metadata_fetch_batch_detailed($ids, ['timeout_ms' => 100]);
echo 'detailed while in flight: missing ', json_encode($d['missing'] === $ids), "\n";

// The answer lands after the caller gave up: it is written to the cache all the same.
sleep(2);
$calls = vm_calls();
echo 'videos calls: ', $calls - $base_calls, "\n";
$t0 = vm_ms();
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 0]);
$elapsed = vm_ms() - $t0;
echo 'from the cache: ', json_encode(array_keys($items) === $ids), ', stale: ',
     json_encode(array_values(array_unique(array_column($items, 'stale')))), "\n";
echo 'instant: ', json_encode($elapsed < 1000), ', new calls: ', vm_calls() - $calls, "\n";

// timeout_ms 0 on cold ids: returns at once without them, and the fetch is queued.
$cold = vm_ids('normal', 2, 50);
$t0 = vm_ms();
$items = vault_metadata_fetch_batch($cold, ['timeout_ms' => 0]);
$elapsed = vm_ms() - $t0;
echo 'cold with timeout_ms 0: ', json_encode($items), ', at once: ', json_encode($elapsed < 1000), "\n";
$calls = vm_wait_calls($calls + 1, 8.0);
echo 'queued fetch went out: ', $calls - $base_calls, "\n";
// The write-back follows the answer; until then the ids are still in flight, so asking
// again with timeout_ms 0 never sends them a second time.
$deadline = vm_ms() + 5000;
do {
    $items = vault_metadata_fetch_batch($cold, ['timeout_ms' => 0]);
} while (count($items) < 2 && vm_ms() < $deadline && usleep(50000) === null);
echo 'then cached: ', json_encode(array_keys($items) === $cold), ', calls: ', vm_calls() - $base_calls, "\n";

// The INI default applies when the option is absent.
ini_set('vault_metadata.fetch_timeout_ms', '100');
$more = vm_ids('normal', 1, 60);
$t0 = vm_ms();
$items = vault_metadata_fetch_batch($more);
$elapsed = vm_ms() - $t0;
echo 'INI fetch_timeout_ms=100: ', json_encode($items), ', quick: ', json_encode($elapsed < 1100), "\n";
vm_settle(); // leave no call of ours sleeping in the emulator
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_timeout'); ?>
--EXPECT--
warm-up: 1
late: []
returned in well under 1500 ms: true
detailed while in flight: missing true
videos calls: 1
from the cache: true, stale: [false]
instant: true, new calls: 0
cold with timeout_ms 0: [], at once: true
queued fetch went out: 2
then cached: true, calls: 2
INI fetch_timeout_ms=100: [], quick: true
