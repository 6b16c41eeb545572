--TEST--
vault_metadata_fetch_batch(): a damaged cache file is moved aside and rebuilt; an unusable db_path still answers from upstream
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
$db = vm_setup('fetch_batch_broken_cache');

// Garbage where the database should be.
file_put_contents($db, str_repeat("this is not a SQLite database\n", 400));
$ids = vm_ids('normal', 3);
try {
    $items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
    echo 'items: ', json_encode(array_keys($items) === $ids), "\n";
} catch (Throwable $e) {
    echo 'threw ', get_class($e), ': ', $e->getMessage(), "\n";
}
$aside = glob($db . '.damaged-*');
echo 'damaged file kept beside it: ', count($aside) >= 1 ? 'yes' : 'no', "\n";
echo 'its content is the garbage: ', json_encode(isset($aside[0]) && str_starts_with(file_get_contents($aside[0]), 'this is not a SQLite database')), "\n";
echo 'rebuilt as SQLite: ', json_encode(file_get_contents($db, false, null, 0, 16) === "SQLite format 3\0"), "\n";
// And it works as a cache again: the next call is served from it.
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
echo 'cached after the rebuild: ', json_encode(array_keys($items) === $ids), ', videos calls: ', vm_calls(), "\n";

// A db_path in a directory that does not exist: no exception, items straight from upstream.
$nowhere = sys_get_temp_dir() . '/vm-phpt-no-such-dir-' . getmypid() . '/cache.sqlite';
ini_set('vault_metadata.db_path', $nowhere);
$more = vm_ids('normal', 2, 10);
try {
    $items = vault_metadata_fetch_batch($more, ['timeout_ms' => 10000]);
    echo 'no cache dir: ', json_encode(array_keys($items) === $more), ', stale ', json_encode(array_column($items, 'stale')), "\n";
    $items = vault_metadata_fetch_batch($more, ['timeout_ms' => 10000]);
    echo 'no cache dir, again: ', json_encode(array_keys($items) === $more), "\n";
} catch (Throwable $e) {
    echo 'threw ', get_class($e), ': ', $e->getMessage(), "\n";
}
echo 'directory still absent: ', json_encode(!file_exists(dirname($nowhere))), "\n";

// A db_path that is a directory (a scratch one of this test's own): the same.
$dir = vm_db_path('fetch_batch_broken_cache') . '.dir';
@mkdir($dir);
file_put_contents("$dir/keep", 'x');
ini_set('vault_metadata.db_path', $dir);
try {
    $items = vault_metadata_fetch_batch(vm_ids('normal', 1, 20), ['timeout_ms' => 10000]);
    echo 'db_path is a directory: ', count($items), " item\n";
} catch (Throwable $e) {
    echo 'threw ', get_class($e), ': ', $e->getMessage(), "\n";
}
echo 'directory left alone: ', json_encode(is_dir($dir) && is_file("$dir/keep")), "\n";
?>
--CLEAN--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_cleanup('fetch_batch_broken_cache');
$dir = vm_db_path('fetch_batch_broken_cache') . '.dir';
@unlink("$dir/keep");
@rmdir($dir);
foreach (glob("$dir.damaged-*") ?: [] as $f) { @unlink("$f/keep"); @rmdir($f); }
?>
--EXPECT--
items: true
damaged file kept beside it: yes
its content is the garbage: true
rebuilt as SQLite: true
cached after the rebuild: true, videos calls: 1
no cache dir: true, stale [false,false]
no cache dir, again: true
directory still absent: true
db_path is a directory: 1 item
directory left alone: true
