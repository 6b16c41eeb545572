--TEST--
vault_metadata: the extension is loaded and registers every INI setting of the design with its default
--EXTENSIONS--
vault_metadata
--FILE--
<?php
var_dump(extension_loaded('vault_metadata'));
var_dump(in_array('vault_metadata', get_loaded_extensions(), true));
foreach (['vault_metadata_fetch_batch', 'vault_metadata_fetch_batch_detailed', 'vault_metadata_available'] as $f) {
    echo $f, ': ', function_exists($f) ? 'yes' : 'no', "\n";
}

$defaults = [
    'enabled' => '1',
    'api_key' => '',
    'api_base' => 'https://www.googleapis.com/youtube/v3',
    'max_age' => '3600',
    'fetch_timeout_ms' => '2000',
    'upstream_timeout_ms' => '10000',
    'max_batch' => '1000',
    'negative_ttl' => '3600',
    'pool_size' => '4',
    'quota_daily_units' => '10000',
    'quota_backend' => 'sqlite',
    'redis_url' => '',
    'refresh_interval' => '90',
    'metrics_url' => '',
    'metrics_flush_interval' => '60',
    'indexnow_endpoint' => '',
    'indexnow_key' => '',
    'indexnow_key_location' => '',
    'indexnow_host' => '',
    'log_level' => 'warning',
];
$all = ini_get_all('vault_metadata');
foreach ($defaults as $name => $value) {
    $full = "vault_metadata.$name";
    $got = ini_get($full);
    $access = $all[$full]['access'] ?? null;
    $status = $got === $value ? 'ok' : 'got ' . var_export($got, true) . ', want ' . var_export($value, true);
    if ($access !== INI_ALL) {
        $status .= ' (access ' . var_export($access, true) . ', want INI_ALL)';
    }
    echo "$full: $status\n";
}

// db_path defaults to vault_metadata.sqlite in the system temp directory; an empty
// setting that stands for it is fine. quota_path defaults to db_path + ".quota".
$tmp_db = rtrim(sys_get_temp_dir(), '/') . '/vault_metadata.sqlite';
$db = ini_get('vault_metadata.db_path');
echo 'vault_metadata.db_path: ', ($db === '' || $db === $tmp_db) ? 'ok' : "unexpected $db", "\n";
$quota = ini_get('vault_metadata.quota_path');
echo 'vault_metadata.quota_path: ', ($quota === '' || $quota === "$tmp_db.quota" || $quota === "$db.quota") ? 'ok' : "unexpected $quota", "\n";
echo 'registered: ', isset($all['vault_metadata.db_path'], $all['vault_metadata.quota_path']) ? 'yes' : 'no', "\n";
?>
--EXPECT--
bool(true)
bool(true)
vault_metadata_fetch_batch: yes
vault_metadata_fetch_batch_detailed: yes
vault_metadata_available: yes
vault_metadata.enabled: ok
vault_metadata.api_key: ok
vault_metadata.api_base: ok
vault_metadata.max_age: ok
vault_metadata.fetch_timeout_ms: ok
vault_metadata.upstream_timeout_ms: ok
vault_metadata.max_batch: ok
vault_metadata.negative_ttl: ok
vault_metadata.pool_size: ok
vault_metadata.quota_daily_units: ok
vault_metadata.quota_backend: ok
vault_metadata.redis_url: ok
vault_metadata.refresh_interval: ok
vault_metadata.metrics_url: ok
vault_metadata.metrics_flush_interval: ok
vault_metadata.indexnow_endpoint: ok
vault_metadata.indexnow_key: ok
vault_metadata.indexnow_key_location: ok
vault_metadata.indexnow_host: ok
vault_metadata.log_level: ok
vault_metadata.db_path: ok
vault_metadata.quota_path: ok
registered: yes
