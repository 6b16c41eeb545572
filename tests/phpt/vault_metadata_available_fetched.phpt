--TEST--
vault_metadata_available(): with items fetched from the API (allow-list, block-list, empty allow-list, none)
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('available_fetched');

$ids = [];
foreach (['region_allowed', 'region_blocked', 'region_empty_allowed', 'normal'] as $kind) {
    $ids[$kind] = vm_ids($kind, 1)[0];
}
$items = vault_metadata_fetch_batch(array_values($ids), ['timeout_ms' => 10000]);
echo 'fetched: ', count($items), "\n";

$all = ['AD','AE','AR','AT','AU','BE','BR','CA','CH','CN','CZ','DE','DK','EG','ES','FI','FR','GB','GR','HK','ID','IE','IL',
        'IN','IT','JP','KR','MX','NG','NL','NO','NZ','PE','PH','PK','PL','PT','RU','SA','SE','SG','TH','TR','TW','UA','US','VN','ZA'];
foreach ($ids as $kind => $id) {
    $raw = vm_video($id)['contentDetails']['regionRestriction'] ?? [];
    $mismatches = [];
    foreach ($all as $country) {
        $want = isset($raw['allowed']) ? in_array($country, $raw['allowed'], true)
              : !in_array($country, $raw['blocked'] ?? [], true);
        foreach ([$country, strtolower($country)] as $code) {
            if (vault_metadata_available($items[$id], $code) !== $want) {
                $mismatches[] = $code;
            }
        }
    }
    // Every listed country, even outside the sample above.
    foreach ($raw['allowed'] ?? [] as $country) {
        if (!vault_metadata_available($items[$id], $country)) $mismatches[] = "allowed $country";
    }
    foreach ($raw['blocked'] ?? [] as $country) {
        if (vault_metadata_available($items[$id], $country)) $mismatches[] = "blocked $country";
    }
    $count = count(array_filter($all, fn($c) => vault_metadata_available($items[$id], $c)));
    echo "$kind: ", $mismatches ? 'mismatches ' . implode(',', $mismatches) : 'ok', ", available in $count of ", count($all), "\n";
}
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('available_fetched'); ?>
--EXPECTF--
fetched: 4
region_allowed: ok, available in %d of 48
region_blocked: ok, available in %d of 48
region_empty_allowed: ok, available in 0 of 48
normal: ok, available in 48 of 48
