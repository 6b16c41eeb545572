--TEST--
vault_metadata: invalid INI values are refused by ini_set() and leave the setting unchanged
--EXTENSIONS--
vault_metadata
--FILE--
<?php
$cases = [
    ['vault_metadata.max_age', '-1'],
    ['vault_metadata.max_age', 'soon'],
    ['vault_metadata.max_age', '1.5'],
    ['vault_metadata.fetch_timeout_ms', '-5'],
    ['vault_metadata.negative_ttl', '-3600'],
    ['vault_metadata.pool_size', '0'],
    ['vault_metadata.pool_size', '-4'],
    ['vault_metadata.quota_daily_units', '-1'],
    ['vault_metadata.quota_backend', 'mysql'],
    ['vault_metadata.quota_backend', ''],
    ['vault_metadata.log_level', 'loud'],
    ['vault_metadata.log_level', ''],
];
foreach ($cases as [$name, $value]) {
    $before = ini_get($name);
    $result = @ini_set($name, $value);
    $after = ini_get($name);
    printf("%s=%s: %s, %s\n", $name, var_export($value, true), $result === false ? 'refused' : 'ACCEPTED',
           $after === $before ? 'unchanged' : "changed to " . var_export($after, true));
}

// Valid values are taken (ini_set() returns the old value).
$valid = [
    ['vault_metadata.max_age', '0'],
    ['vault_metadata.max_age', '86400'],
    ['vault_metadata.pool_size', '1'],
    ['vault_metadata.quota_backend', 'redis'],
    ['vault_metadata.quota_backend', 'sqlite'],
    ['vault_metadata.log_level', 'debug'],
    ['vault_metadata.log_level', 'error'],
    ['vault_metadata.negative_ttl', '0'],
    ['vault_metadata.fetch_timeout_ms', '0'],
];
foreach ($valid as [$name, $value]) {
    $result = ini_set($name, $value);
    printf("%s=%s: %s\n", $name, $value, $result !== false && ini_get($name) === $value ? 'taken' : 'NOT TAKEN');
}
?>
--EXPECT--
vault_metadata.max_age='-1': refused, unchanged
vault_metadata.max_age='soon': refused, unchanged
vault_metadata.max_age='1.5': refused, unchanged
vault_metadata.fetch_timeout_ms='-5': refused, unchanged
vault_metadata.negative_ttl='-3600': refused, unchanged
vault_metadata.pool_size='0': refused, unchanged
vault_metadata.pool_size='-4': refused, unchanged
vault_metadata.quota_daily_units='-1': refused, unchanged
vault_metadata.quota_backend='mysql': refused, unchanged
vault_metadata.quota_backend='': refused, unchanged
vault_metadata.log_level='loud': refused, unchanged
vault_metadata.log_level='': refused, unchanged
vault_metadata.max_age=0: taken
vault_metadata.max_age=86400: taken
vault_metadata.pool_size=1: taken
vault_metadata.quota_backend=redis: taken
vault_metadata.quota_backend=sqlite: taken
vault_metadata.log_level=debug: taken
vault_metadata.log_level=error: taken
vault_metadata.negative_ttl=0: taken
vault_metadata.fetch_timeout_ms=0: taken
