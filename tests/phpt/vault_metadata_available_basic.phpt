--TEST--
vault_metadata_available(): block-lists, allow-lists, the empty allow-list, case-insensitive codes, and its errors
--EXTENSIONS--
vault_metadata
--FILE--
<?php
$free = ['allowed_countries' => null, 'blocked_countries' => []];
$blocked = ['allowed_countries' => null, 'blocked_countries' => ['DE', 'RU']];
$allowed = ['allowed_countries' => ['FR', 'GB', 'US'], 'blocked_countries' => []];
$nowhere = ['allowed_countries' => [], 'blocked_countries' => []];

$cases = [
    ['no restriction, US', $free, 'US'],
    ['no restriction, lower-case fr', $free, 'fr'],
    ['blocked DE', $blocked, 'DE'],
    ['blocked, lower-case ru', $blocked, 'ru'],
    ['blocked, mixed-case Ru', $blocked, 'Ru'],
    ['blocked list, US not on it', $blocked, 'US'],
    ['allow-list names GB', $allowed, 'GB'],
    ['allow-list, lower-case gb', $allowed, 'gb'],
    ['allow-list without DE', $allowed, 'DE'],
    ['empty allow-list, US', $nowhere, 'US'],
    ['empty allow-list, FR', $nowhere, 'FR'],
];
foreach ($cases as [$label, $item, $country]) {
    echo "$label: ", var_export(vault_metadata_available($item, $country), true), "\n";
}

// A whole item as fetch_batch returns it works too (extra keys are fine).
$item = ['video_id' => 'dQw4w9WgXcQ', 'title' => 't', 'allowed_countries' => null, 'blocked_countries' => ['CN'], 'stale' => false];
echo 'full item, CN: ', var_export(vault_metadata_available($item, 'cn'), true), ', JP: ',
     var_export(vault_metadata_available($item, 'JP'), true), "\n";

foreach ([['USA', $free], ['1A', $free], ['', $free], ['U', $free], ['U1', $blocked], ['é', $free], ['  ', $free]] as [$country, $item]) {
    try {
        var_dump(vault_metadata_available($item, $country));
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
foreach ([[], ['allowed_countries' => null], ['blocked_countries' => []], ['title' => 'x']] as $item) {
    try {
        var_dump(vault_metadata_available($item, 'US'));
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
try {
    vault_metadata_available('US', 'US');
} catch (TypeError $e) {
    echo get_class($e), "\n";
}
?>
--EXPECTF--
no restriction, US: true
no restriction, lower-case fr: true
blocked DE: false
blocked, lower-case ru: false
blocked, mixed-case Ru: false
blocked list, US not on it: true
allow-list names GB: true
allow-list, lower-case gb: true
allow-list without DE: false
empty allow-list, US: false
empty allow-list, FR: false
full item, CN: false, JP: true
ValueError: vault_metadata_available(): Argument #2 ($country) %s"USA"%s
ValueError: vault_metadata_available(): Argument #2 ($country) %s"1A"%s
ValueError: vault_metadata_available(): Argument #2 ($country) %s""%s
ValueError: vault_metadata_available(): Argument #2 ($country) %s"U"%s
ValueError: vault_metadata_available(): Argument #2 ($country) %s"U1"%s
ValueError: vault_metadata_available(): Argument #2 ($country) %s
ValueError: vault_metadata_available(): Argument #2 ($country) %s
ValueError: vault_metadata_available(): Argument #1 ($item) %s
ValueError: vault_metadata_available(): Argument #1 ($item) %s
ValueError: vault_metadata_available(): Argument #1 ($item) %s
ValueError: vault_metadata_available(): Argument #1 ($item) %s
TypeError
