--TEST--
vault_metadata_fetch_batch(): channel_handle is null until channels.list told the handle, then the channel's customUrl
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_channel_handle');

$with = vm_ids('normal', 3);
$without = vm_ids('channel_without_handle', 2);
$ids = array_merge($with, $without);
$expected = [];
foreach ($ids as $id) {
    $channel_id = vm_video($id)['snippet']['channelId'];
    $channel = vm_control_ok('GET', 'channel?id=' . rawurlencode($channel_id));
    $expected[$id] = $channel['snippet']['customUrl'] ?? null;
}
echo 'emulator handles: ', json_encode(array_map(fn($h) => $h === null ? null : (bool)preg_match('/^@[a-z0-9._-]+$/', $h), $expected)
    === array_fill_keys($with, true) + array_fill_keys($without, null)), "\n";

$cold = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
$ok = count($cold) === 5;
foreach ($cold as $id => $item) {
    $ok = $ok && ($item['channel_handle'] === null || $item['channel_handle'] === $expected[$id]);
}
echo 'cold: null or right: ', json_encode($ok), "\n";

// Once channels.list has answered, the cached rows carry the handles.
$c = vm_settle();
echo 'channels.list called: ', json_encode($c['calls']['channels'] >= 1), "\n";
$deadline = vm_ms() + 5000;
do {
    $warm = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
    $handles = array_map(fn($i) => $i['channel_handle'], $warm);
} while ($handles !== $expected && vm_ms() < $deadline && usleep(100000) === null);
echo 'warm handles: ', json_encode($handles === $expected), "\n";
if ($handles !== $expected) {
    var_dump($handles, $expected);
}
echo 'no refetch of videos: ', vm_counters(false)['calls']['videos'], "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_channel_handle'); ?>
--EXPECT--
emulator handles: true
cold: null or right: true
channels.list called: true
warm handles: true
no refetch of videos: 1
