--TEST--
vault_metadata_fetch_batch(): bad input is a TypeError or ValueError naming the culprit, and touches nothing
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_errors');
[$a, $b, $c, $d] = vm_ids('normal', 4);

function attempt(string $label, array $ids, array $options = []): void {
    foreach (['vault_metadata_fetch_batch', 'vault_metadata_fetch_batch_detailed'] as $fn) {
        try {
            $result = $fn($ids, $options);
            echo "$label: returned ", json_encode($result), "\n";
        } catch (Throwable $e) {
            // The detailed function must throw the same, under its own name.
            $message = str_replace('vault_metadata_fetch_batch_detailed()', 'vault_metadata_fetch_batch()', $e->getMessage());
            if ($fn === 'vault_metadata_fetch_batch') {
                echo "$label: ", get_class($e), ': ', $message, "\n";
                $GLOBALS['first'] = get_class($e) . $message;
            } elseif ($GLOBALS['first'] !== get_class($e) . $message) {
                echo "$label: detailed differs: ", get_class($e), ': ', $e->getMessage(), "\n";
            }
        }
    }
}

echo "-- elements\n";
attempt('int', [$a, 42, $b]);
attempt('null', [null]);
attempt('array', [$a, $b, [$c]]);
attempt('float', [1 => $a, 5 => 1.5]);
attempt('bool', ['first' => $a, 'second' => true]);
attempt('object', [new stdClass]);
attempt('10 chars', [$a, 'abcdefghij']);
attempt('12 chars', ['abcdefghijkl']);
attempt('bad char', [$a, $b, 'abcdefghij!']);
attempt('space', ['abcdefghij ']);
attempt('empty', ['']);
attempt('multibyte', ['abcdefghiké']);
attempt('string key', ['one' => $a, 'two' => 'not an id']);
attempt('after valid ones', [$a, $b, $c, $d, 'x']);

echo "-- options\n";
attempt('unknown option', [$a], ['max_ageing' => 1]);
attempt('positional option', [$a], [3600]);
attempt('max_age string', [$a], ['max_age' => '3600']);
attempt('max_age float', [$a], ['max_age' => 3600.0]);
attempt('max_age null', [$a], ['max_age' => null]);
attempt('max_age negative', [$a], ['max_age' => -1]);
attempt('timeout_ms float', [$a], ['timeout_ms' => 1.5]);
attempt('timeout_ms negative', [$a], ['timeout_ms' => -100]);
attempt('allow_stale int', [$a], ['allow_stale' => 1]);
attempt('allow_stale string', [$a], ['allow_stale' => 'yes']);
attempt('options on empty input', [], ['nope' => true]);

echo "-- max_batch\n";
ini_set('vault_metadata.max_batch', '3');
attempt('4 distinct', [$a, $b, $c, $d]);
echo "-- nothing touched\n";
echo 'videos calls: ', vm_calls(), "\n";
echo 'empty input: ', json_encode(vault_metadata_fetch_batch([])), ', ', json_encode(vault_metadata_fetch_batch([], ['max_age' => 5])), "\n";
echo 'videos calls: ', vm_calls(), "\n";
$r = vault_metadata_fetch_batch([$a, $b, $a, $c, $b], ['timeout_ms' => 10000, 'max_age' => 60, 'allow_stale' => false]);
echo '5 entries, 3 distinct: ', json_encode(array_keys($r) === [$a, $b, $c]), ', videos calls: ', vm_calls(), "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_errors'); ?>
--EXPECT--
-- elements
int: TypeError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only strings, int given at key 1
null: TypeError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only strings, null given at key 0
array: TypeError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only strings, array given at key 2
float: TypeError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only strings, float given at key 5
bool: TypeError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only strings, bool given at key "second"
object: TypeError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only strings, stdClass given at key 0
10 chars: ValueError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only YouTube video ids (11 characters of A-Za-z0-9_-), "abcdefghij" given at key 1
12 chars: ValueError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only YouTube video ids (11 characters of A-Za-z0-9_-), "abcdefghijkl" given at key 0
bad char: ValueError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only YouTube video ids (11 characters of A-Za-z0-9_-), "abcdefghij!" given at key 2
space: ValueError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only YouTube video ids (11 characters of A-Za-z0-9_-), "abcdefghij " given at key 0
empty: ValueError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only YouTube video ids (11 characters of A-Za-z0-9_-), "" given at key 0
multibyte: ValueError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only YouTube video ids (11 characters of A-Za-z0-9_-), "abcdefghiké" given at key 0
string key: ValueError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only YouTube video ids (11 characters of A-Za-z0-9_-), "not an id" given at key "two"
after valid ones: ValueError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain only YouTube video ids (11 characters of A-Za-z0-9_-), "x" given at key 4
-- options
unknown option: ValueError: vault_metadata_fetch_batch(): Argument #2 ($options) contains an unknown option "max_ageing" (known: max_age, timeout_ms, allow_stale)
positional option: ValueError: vault_metadata_fetch_batch(): Argument #2 ($options) contains an unknown option at key 0 (known: max_age, timeout_ms, allow_stale)
max_age string: TypeError: vault_metadata_fetch_batch(): Argument #2 ($options) option "max_age" must be of type int, string given
max_age float: TypeError: vault_metadata_fetch_batch(): Argument #2 ($options) option "max_age" must be of type int, float given
max_age null: TypeError: vault_metadata_fetch_batch(): Argument #2 ($options) option "max_age" must be of type int, null given
max_age negative: ValueError: vault_metadata_fetch_batch(): Argument #2 ($options) option "max_age" must be greater than or equal to 0
timeout_ms float: TypeError: vault_metadata_fetch_batch(): Argument #2 ($options) option "timeout_ms" must be of type int, float given
timeout_ms negative: ValueError: vault_metadata_fetch_batch(): Argument #2 ($options) option "timeout_ms" must be greater than or equal to 0
allow_stale int: TypeError: vault_metadata_fetch_batch(): Argument #2 ($options) option "allow_stale" must be of type bool, int given
allow_stale string: TypeError: vault_metadata_fetch_batch(): Argument #2 ($options) option "allow_stale" must be of type bool, string given
options on empty input: ValueError: vault_metadata_fetch_batch(): Argument #2 ($options) contains an unknown option "nope" (known: max_age, timeout_ms, allow_stale)
-- max_batch
4 distinct: ValueError: vault_metadata_fetch_batch(): Argument #1 ($video_ids) must contain at most 3 distinct video ids (vault_metadata.max_batch), 4 given
-- nothing touched
videos calls: 0
empty input: [], []
videos calls: 0
5 entries, 3 distinct: true, videos calls: 1
