--TEST--
vault_metadata_fetch_batch(): a malformed 200 is not retried, its ids stay stale and are not negative-cached
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_upstream_malformed');

[$a, $b, $c] = vm_ids('normal', 3);
vault_metadata_fetch_batch([$c], ['timeout_ms' => 10000]);
echo 'warm-up calls: ', vm_calls(), "\n";

foreach (['malformed', 'malformed_shape'] as $n => $fault) {
    vm_faults([['type' => $fault, 'count' => 1]]);
    $calls = vm_calls();
    $items = vault_metadata_fetch_batch([$a, $b, $c], ['max_age' => 0, 'timeout_ms' => 10000]);
    echo "$fault: keys ", json_encode(array_keys($items) === [$c]), ', stale ', json_encode($items[$c]['stale'] ?? null),
         ', calls ', vm_calls() - $calls, "\n";
    // Not negative-cached: the next call asks again, and gets them.
    $calls = vm_calls();
    $items = vault_metadata_fetch_batch([$a, $b], ['timeout_ms' => 10000]);
    echo "after $fault: keys ", json_encode(array_keys($items) === [$a, $b]), ', calls ', vm_calls() - $calls, "\n";
    // The row of $c was kept as it was: with a normal max_age it is served, fresh, without a call.
    $calls = vm_calls();
    $items = vault_metadata_fetch_batch([$c], ['timeout_ms' => 10000]);
    echo "row of c kept: ", json_encode(isset($items[$c]) && !$items[$c]['stale']), ', calls ', vm_calls() - $calls, "\n";
    [$a, $b] = vm_ids('normal', 2, 10 + 2 * $n);
}
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_upstream_malformed'); ?>
--EXPECT--
warm-up calls: 1
malformed: keys true, stale true, calls 1
after malformed: keys true, calls 1
row of c kept: true, calls 0
malformed_shape: keys true, stale true, calls 1
after malformed_shape: keys true, calls 1
row of c kept: true, calls 0
