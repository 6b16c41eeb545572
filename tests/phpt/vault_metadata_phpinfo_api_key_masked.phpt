--TEST--
vault_metadata: phpinfo() shows the library versions and every setting, and never the API key
--EXTENSIONS--
vault_metadata
--INI--
vault_metadata.api_key=MASTER-SECRET-KEY-4f1c9a
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';

var_dump(ini_set('vault_metadata.api_key', 'LOCAL-SECRET-KEY-77e0b2'));
var_dump(ini_get('vault_metadata.api_key'));

ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();

foreach (['MASTER-SECRET-KEY-4f1c9a', 'LOCAL-SECRET-KEY-77e0b2', 'SECRET-KEY'] as $secret) {
    echo "contains $secret: ", str_contains($info, $secret) ? 'yes' : 'no', "\n";
}
// Our own section: from its header to the next module's.
$start = strpos($info, "\nvault_metadata\n");
$section = $start === false ? '' : substr($info, $start);
echo 'section: ', $section === '' ? 'missing' : 'found', "\n";
foreach (['Version', 'libuv', 'libcurl', 'SQLite', 'msgpack-c', 'simdjson'] as $lib) {
    $ok = preg_match('/^' . preg_quote($lib, '/') . ' => (\S*\d+\.\d+\S*)$/m', $section, $m);
    echo "$lib: ", $ok ? 'version' : 'MISSING', "\n";
}
echo 'SQLite version matches the library: ';
preg_match('/^SQLite => (\S+)$/m', $section, $m);
echo (class_exists('SQLite3') ? (($m[1] ?? '') === SQLite3::version()['versionString'] ? 'yes' : 'no (' . ($m[1] ?? '?') . ')') : 'yes'), "\n";
echo 'key row shown as set: ', preg_match('/^vault_metadata\.api_key => set => set$/m', $section) ? 'yes' : 'no', "\n";
foreach (['enabled', 'db_path', 'quota_path', 'api_base', 'max_age', 'fetch_timeout_ms', 'upstream_timeout_ms',
          'max_batch', 'negative_ttl', 'pool_size', 'quota_daily_units', 'quota_backend', 'redis_url',
          'refresh_interval', 'metrics_url', 'metrics_flush_interval', 'indexnow_endpoint', 'indexnow_key',
          'indexnow_key_location', 'indexnow_host', 'log_level'] as $name) {
    if (!preg_match('/^vault_metadata\.' . $name . ' => /m', $section)) {
        echo "setting $name not shown\n";
    }
}

// The same through `php --ri vault_metadata`, with the key given on the command line.
[$code, $out] = vm_run_php(['-d', 'vault_metadata.api_key=CLI-SECRET-KEY-0d9e', '--ri', 'vault_metadata']);
echo "php --ri exit: $code\n";
echo 'php --ri contains the key: ', str_contains($out, 'CLI-SECRET-KEY-0d9e') ? 'yes' : 'no', "\n";
echo 'php --ri shows libcurl: ', preg_match('/^libcurl => \d+\.\d+/m', $out) ? 'yes' : 'no', "\n";
echo 'php --ri shows the key as set: ', preg_match('/^vault_metadata\.api_key => set => set$/m', $out) ? 'yes' : 'no', "\n";

// Not set at all: "not set".
[$code, $out] = vm_run_php(['--ri', 'vault_metadata'], null, ['VAULT_YOUTUBE_API_KEY' => '']);
echo 'no key: ', preg_match('/^vault_metadata\.api_key => not set => not set$/m', $out) ? 'not set' : $out, "\n";
?>
--EXPECT--
string(24) "MASTER-SECRET-KEY-4f1c9a"
string(23) "LOCAL-SECRET-KEY-77e0b2"
contains MASTER-SECRET-KEY-4f1c9a: no
contains LOCAL-SECRET-KEY-77e0b2: no
contains SECRET-KEY: no
section: found
Version: version
libuv: version
libcurl: version
SQLite: version
msgpack-c: version
simdjson: version
SQLite version matches the library: yes
key row shown as set: yes
php --ri exit: 0
php --ri contains the key: no
php --ri shows libcurl: yes
php --ri shows the key as set: yes
no key: not set
