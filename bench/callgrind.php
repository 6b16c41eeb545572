<?php
// Run under callgrind by callgrind.sh: one untimed warm call, then N warm calls of the first
// `size` ids of BENCH_IDS_FILE (a cache that already holds them: no upstream call).
//   php -n -d extension=… bench/callgrind.php N [size]
declare(strict_types=1);
$n = (int) ($argv[1] ?? 1000);
$size = (int) ($argv[2] ?? 50);
$ids = array_slice(json_decode(file_get_contents(getenv('BENCH_IDS_FILE')), true), 0, $size);
$got = vault_metadata_fetch_batch($ids);
if (count($got) !== $size) {
    fwrite(STDERR, "callgrind.php: the cache answered " . count($got) . " of $size ids: not warm\n");
    exit(1);
}
for ($i = 0; $i < $n; $i++) {
    $r = vault_metadata_fetch_batch($ids);
}
