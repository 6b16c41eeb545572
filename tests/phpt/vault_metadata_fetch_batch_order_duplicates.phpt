--TEST--
vault_metadata_fetch_batch(): keys in order of first appearance, duplicates once, all-digit ids become integer keys
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_order_duplicates');

[$a, $b, $c, $d, $e] = vm_ids('normal', 5);
[$gone] = vm_ids('deleted', 1);

// Duplicates, an omitted id in the middle, string keys in the input (ignored: the result is keyed by id).
$input = [$b, $a, 'x' => $b, $gone, $c, 7 => $a, $c];
$items = vault_metadata_fetch_batch($input, ['timeout_ms' => 10000]);
echo 'keys: ', json_encode(array_keys($items) === [$b, $a, $c]), "\n";
echo 'videos calls: ', vm_calls(), "\n";
$req = vm_video_requests();
echo 'ids sent in the call: ', $req[0]['ids'] ?? '?', "\n";

// Cached ($a, $b) and fetched ($d, $e) ids mixed: still request order.
$items = vault_metadata_fetch_batch([$d, $a, $e, $b, $d], ['timeout_ms' => 10000]);
echo 'mixed keys: ', json_encode(array_keys($items) === [$d, $a, $e, $b]), "\n";
echo 'videos calls: ', vm_calls(), "\n";
echo 'second call sent only the new ids: ', (vm_video_requests()[1]['ids'] ?? '?'), "\n";

// An id made only of digits (a clone of $a under a new id) becomes an integer key.
$digits = '12345678901';
vm_edit_video(['id' => $digits, 'clone' => $a, 'patch' => ['snippet' => ['title' => 'All digits']]]);
$items = vault_metadata_fetch_batch([$c, $digits, $a], ['timeout_ms' => 10000]);
var_dump(array_keys($items) === [$c, 12345678901, $a]);
var_dump(array_key_exists(12345678901, $items), is_int(array_keys($items)[1]));
var_dump($items[12345678901]['video_id'], $items[12345678901]['title']);
echo 'videos calls: ', vm_calls(), "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_order_duplicates'); ?>
--EXPECT--
keys: true
videos calls: 1
ids sent in the call: 4
mixed keys: true
videos calls: 2
second call sent only the new ids: 2
bool(true)
bool(true)
bool(true)
string(11) "12345678901"
string(10) "All digits"
videos calls: 3
