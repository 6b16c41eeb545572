--TEST--
vault_metadata_fetch_batch(): the daily quota caps upstream calls; what is over the limit is left out, without an exception
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_quota_limit', ['vault_metadata.quota_daily_units' => 2]);

$ids = vm_ids('normal', 160);
$batch = array_slice($ids, 0, 150);
try {
    $items = vault_metadata_fetch_batch($batch, ['timeout_ms' => 10000]);
    echo 'items: ', count($items), "\n";
    echo 'all from the batch, in its order: ',
         json_encode(array_keys($items) === array_values(array_intersect($batch, array_keys($items)))), "\n";
} catch (Throwable $e) {
    echo 'threw ', get_class($e), ': ', $e->getMessage(), "\n";
}
$c = vm_settle();
echo 'videos calls: ', $c['calls']['videos'], ', units billed: ', $c['units'], "\n";
echo 'ids per call: ', implode(',', array_column(vm_video_requests($c), 'ids')), "\n";

// Nothing left today: no call goes out, the answer says so.
try {
    $d = vault_metadata_fetch_batch_detailed(array_slice($ids, 150, 10), ['timeout_ms' => 10000]);
    echo 'detailed: quota_remaining ', json_encode($d['quota_remaining']), ', missing ', count($d['missing']),
         ', refreshed ', count($d['stale_refreshed']), "\n";
} catch (Throwable $e) {
    echo 'threw ', get_class($e), ': ', $e->getMessage(), "\n";
}
echo 'videos calls: ', vm_calls(), "\n";

// A fresh ledger with a larger budget: quota_remaining counts down by one unit per call.
ini_set('vault_metadata.quota_path', vm_db_path('fetch_batch_quota_limit') . '.quota2');
ini_set('vault_metadata.quota_daily_units', '100');
$d = vault_metadata_fetch_batch_detailed(array_slice($ids, 150, 10), ['timeout_ms' => 10000]);
$c = vm_settle();
echo 'second ledger: refreshed ', count($d['stale_refreshed']), ', remaining after settling: ',
     json_encode(vault_metadata_fetch_batch_detailed([])['quota_remaining'] === 100 - ($c['units'] - 2)), "\n";
@unlink(vm_db_path('fetch_batch_quota_limit') . '.quota2');
@unlink(vm_db_path('fetch_batch_quota_limit') . '.quota2-wal');
@unlink(vm_db_path('fetch_batch_quota_limit') . '.quota2-shm');
?>
--CLEAN--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_cleanup('fetch_batch_quota_limit');
foreach (['', '-wal', '-shm'] as $suffix) {
    @unlink(vm_db_path('fetch_batch_quota_limit') . '.quota2' . $suffix);
}
?>
--EXPECT--
items: 100
all from the batch, in its order: true
videos calls: 2, units billed: 2
ids per call: 50,50
detailed: quota_remaining 0, missing 10, refreshed 0
videos calls: 2
second ledger: refreshed 10, remaining after settling: true
