--TEST--
vault_metadata_fetch_batch(): a 400 (and a 403 forbidden) is never retried and its ids are not negative-cached
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_upstream_bad_request');

foreach (['400', '403_forbidden'] as $n => $fault) {
    $ids = vm_ids('normal', 2, 10 * $n);
    vm_faults([['type' => $fault, 'count' => 1]]);
    $calls = vm_calls();
    try {
        $items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
        echo "$fault: ", json_encode($items), ', calls ', vm_calls() - $calls, "\n";
    } catch (Throwable $e) {
        echo "$fault threw ", get_class($e), "\n";
    }
    $calls = vm_calls();
    $items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
    echo "asked again after $fault: ", json_encode(array_keys($items) === $ids), ', calls ', vm_calls() - $calls, "\n";
}

// A key the API refuses (400 keyInvalid): nothing cached, nothing negative-cached, no retry.
vm_config(['invalid_keys' => ['test-key']]);
$ids = vm_ids('normal', 2, 40);
$calls = vm_calls();
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
echo 'keyInvalid: ', json_encode($items), ', calls ', vm_calls() - $calls, "\n";
vm_config(['invalid_keys' => []]);
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
echo 'after keyInvalid: ', json_encode(array_keys($items) === $ids), ', calls ', vm_calls() - $calls, "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_upstream_bad_request'); ?>
--EXPECT--
400: [], calls 1
asked again after 400: true, calls 1
403_forbidden: [], calls 1
asked again after 403_forbidden: true, calls 1
keyInvalid: [], calls 1
after keyInvalid: true, calls 2
