--TEST--
vault_metadata_fetch_batch(): an upstream 403 quotaExceeded never throws, serves stale rows, and stops every further call that day
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_upstream_quota_exceeded');

[$cached, $cold, $later1, $later2] = vm_ids('normal', 4);
$first = vault_metadata_fetch_batch([$cached], ['timeout_ms' => 10000]);
echo 'warm-up: ', count($first), ' item, videos calls: ', vm_calls(), "\n";

vm_faults([['type' => '403_quota', 'count' => 1]]);
try {
    $items = vault_metadata_fetch_batch([$cold, $cached], ['max_age' => 0, 'timeout_ms' => 10000]);
    echo 'keys: ', json_encode(array_keys($items) === [$cached]), ', stale: ', json_encode($items[$cached]['stale'] ?? null),
         ', ttl: ', json_encode($items[$cached]['ttl'] ?? null), "\n";
} catch (Throwable $e) {
    echo 'threw ', get_class($e), ': ', $e->getMessage(), "\n";
}
echo 'videos calls (not retried): ', vm_calls(), "\n";

// The day is exhausted: other ids do not go upstream, and the answer says so.
try {
    $items = vault_metadata_fetch_batch([$later1, $later2], ['timeout_ms' => 10000]);
    echo 'other ids: ', json_encode($items), "\n";
    $d = vault_metadata_fetch_batch_detailed([$later1, $cached], ['timeout_ms' => 10000]);
    echo 'detailed: missing ', json_encode($d['missing']) === json_encode([$later1]) ? 'ok' : json_encode($d['missing']),
         ', fresh ', count($d['fresh']), ', quota_remaining ', json_encode($d['quota_remaining']), "\n";
    $items = vault_metadata_fetch_batch([$cached, $cold], ['max_age' => 0, 'timeout_ms' => 10000]);
    echo 'stale again: ', json_encode(array_keys($items) === [$cached] && $items[$cached]['stale'] === true), "\n";
} catch (Throwable $e) {
    echo 'threw ', get_class($e), ': ', $e->getMessage(), "\n";
}
echo 'videos calls at the end: ', vm_calls(), "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_upstream_quota_exceeded'); ?>
--EXPECT--
warm-up: 1 item, videos calls: 1
keys: true, stale: true, ttl: 0
videos calls (not retried): 2
other ids: []
detailed: missing ok, fresh 1, quota_remaining 0
stale again: true
videos calls at the end: 2
