<?php
// Fetches one batch of video metadata twice: cold (from YouTube, or the emulator) and
// warm (from the local cache), and prints both timings.
//
//   php -d extension=vault_metadata php-examples/demo.php [ID,ID,...]

declare(strict_types=1);

$ids = $argv[1] ?? getenv('VAULT_DEMO_IDS') ?: implode(',', [
    'dQw4w9WgXcQ', '9bZkp7q19f0', 'kJQP7kiw5Fk', 'JGwWNGJdvx8', 'OPf0YbXqDm0',
    'RgKAFK5djSk', 'CevxZvSJLk8', 'fRh_vgS2dFE', 'hT_nvWreIhg', 'YQHsXMglC9A',
]);
$ids = array_values(array_filter(explode(',', $ids)));

$timed = static function (callable $call): array {
    $start = hrtime(true);
    $result = $call();
    return [$result, (hrtime(true) - $start) / 1e6];
};

[$cold, $cold_ms] = $timed(fn () => vault_metadata_fetch_batch($ids, ['max_age' => 3600]));
[$warm, $warm_ms] = $timed(fn () => vault_metadata_fetch_batch($ids, ['max_age' => 3600]));

printf("%d ids asked, %d known\n\n", count($ids), count($warm));
foreach (array_slice($warm, 0, 5) as $id => $video) {
    printf("  %s  %-50.50s  %s  %s views\n", $id, $video['title'], gmdate('H:i:s', $video['duration_seconds']),
        $video['view_count'] === null ? '?' : number_format($video['view_count']));
}
if (count($warm) > 5) {
    printf("  ... and %d more\n", count($warm) - 5);
}
printf("\ncold: %8.3f ms  (fetched upstream: %d chunk(s) of at most 50, in parallel)\n", $cold_ms, (int) ceil(count($ids) / 50));
printf("warm: %8.3f ms  (served from the local SQLite cache)\n", $warm_ms);
printf("warm is %.0fx faster than cold\n", $cold_ms / max($warm_ms, 0.001));

if (count($cold) === 0) {
    fwrite(STDERR, "nothing came back: check vault_metadata.api_key / api_base and the error log\n");
    exit(1);
}
