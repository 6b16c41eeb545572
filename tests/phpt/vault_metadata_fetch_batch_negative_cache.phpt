--TEST--
vault_metadata_fetch_batch(): ids YouTube omits are absent and remembered (negative cache), unless negative_ttl is 0
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_negative_cache');

[$ok1, $ok2] = vm_ids('normal', 2);
[$deleted, $private] = [vm_ids('deleted', 2)[0], vm_ids('deleted', 2)[1]];
[$unknown] = vm_ids('unknown', 1);
$gone_later = vm_ids('normal', 1, 5)[0];

$items = vault_metadata_fetch_batch([$ok1, $deleted, $unknown, $private, $ok2], ['timeout_ms' => 10000]);
echo 'keys: ', json_encode(array_keys($items) === [$ok1, $ok2]), "\n";
echo 'videos calls: ', vm_calls(), "\n";

// Asked again (alone or with a cached id): no call at all.
$items = vault_metadata_fetch_batch([$deleted, $unknown, $private], ['timeout_ms' => 10000]);
echo 'again: ', json_encode($items), ', videos calls: ', vm_calls(), "\n";
$items = vault_metadata_fetch_batch([$unknown, $ok1], ['timeout_ms' => 10000, 'max_age' => 3600]);
echo 'with a cached id: ', json_encode(array_keys($items) === [$ok1]), ', videos calls: ', vm_calls(), "\n";
$d = vault_metadata_fetch_batch_detailed([$deleted, $unknown], ['timeout_ms' => 10000]);
echo 'detailed missing: ', json_encode($d['missing'] === [$deleted, $unknown]), ', videos calls: ', vm_calls(), "\n";

// A video that disappears upstream: its row goes, and the id is remembered as gone.
vault_metadata_fetch_batch([$gone_later], ['timeout_ms' => 10000]);
vm_settle(); // its channel handle is fetched after the call (see the channel_handle tests)
vm_edit_video(['id' => $gone_later, 'delete' => true]);
$items = vault_metadata_fetch_batch([$gone_later], ['timeout_ms' => 10000, 'max_age' => 0]);
echo 'deleted upstream: ', json_encode($items), ', videos calls: ', vm_calls(), "\n";
$items = vault_metadata_fetch_batch([$gone_later], ['timeout_ms' => 10000]);
echo 'deleted upstream, asked again: ', json_encode($items), ', videos calls: ', vm_calls(), "\n";

// negative_ttl = 0: nothing is remembered, each call asks again.
ini_set('vault_metadata.negative_ttl', '0');
$items = vault_metadata_fetch_batch([$deleted, $unknown], ['timeout_ms' => 10000]);
echo 'negative_ttl=0: ', json_encode($items), ', videos calls: ', vm_calls(), "\n";
$items = vault_metadata_fetch_batch([$deleted, $unknown], ['timeout_ms' => 10000]);
echo 'negative_ttl=0 again: ', json_encode($items), ', videos calls: ', vm_calls(), "\n";
$f = vm_counters()['id_fetches'];
echo 'fetches of the deleted id: ', $f[$deleted] ?? 0, ', of the unknown id: ', $f[$unknown] ?? 0, "\n";

// An omitted id that comes back (restored) is found once the negative entry is not trusted.
vm_edit_video(['id' => $gone_later, 'restore' => true]);
$items = vault_metadata_fetch_batch([$gone_later], ['timeout_ms' => 10000]);
echo 'restored: ', json_encode(array_keys($items) === [$gone_later]), ', videos calls: ', vm_calls(), "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_negative_cache'); ?>
--EXPECT--
keys: true
videos calls: 1
again: [], videos calls: 1
with a cached id: true, videos calls: 1
detailed missing: true, videos calls: 1
deleted upstream: [], videos calls: 3
deleted upstream, asked again: [], videos calls: 3
negative_ttl=0: [], videos calls: 4
negative_ttl=0 again: [], videos calls: 5
fetches of the deleted id: 3, of the unknown id: 3
restored: true, videos calls: 6
