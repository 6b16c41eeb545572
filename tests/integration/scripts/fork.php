<?php
// CLI: php -n -d extension=... fork.php IDS_JSON OUT_DIR
// IDS_JSON = {"parent": [...], "children": [[...], ...], "after": [...]}
// The parent fetches (its loop thread runs), forks one child per list, each child fetches its
// list and exits; the parent reaps them, timing fork-to-exit, then fetches again. Prints JSON.
require __DIR__ . '/common.inc.php';
$spec = json_decode(file_get_contents($argv[1]), true);
$dir = $argv[2];
$opts = ['timeout_ms' => 5000];

$t = hrtime(true);
$parent = it_summary($spec['parent'], vault_metadata_fetch_batch($spec['parent'], $opts), (hrtime(true) - $t) / 1e6);
$parent['threads'] = it_threads();

$started = [];
foreach ($spec['children'] as $i => $ids) {
    $t_fork = hrtime(true);
    $pid = pcntl_fork();
    if ($pid === 0) {
        $threads_at_start = it_threads();
        $t = hrtime(true);
        $r = vault_metadata_fetch_batch($ids, $opts);
        $s = it_summary($ids, $r, (hrtime(true) - $t) / 1e6);
        $s['threads_at_start'] = $threads_at_start;
        $s['threads_after'] = it_threads();
        $s['t_fork_to_start_ms'] = ($t - $t_fork) / 1e6;
        $s['t_end'] = hrtime(true);  // CLOCK_MONOTONIC: comparable with the parent's clock
        file_put_contents("$dir/child-$i.json", json_encode($s));
        exit($s['count'] === count($ids) ? 0 : 3);
    }
    if ($pid < 0) {
        fwrite(STDERR, "fork failed\n");
        exit(2);
    }
    $started[$pid] = ['index' => $i, 't_fork' => $t_fork];
}

$children = [];
$deadline = hrtime(true) + 15e9;  // a child still running then is reported as hung
while ($started && hrtime(true) < $deadline) {
    $pid = pcntl_waitpid(-1, $status, WNOHANG);
    if ($pid > 0 && isset($started[$pid])) {
        $t_reaped = hrtime(true);
        $info = $started[$pid];
        unset($started[$pid]);
        $i = $info['index'];
        $file = "$dir/child-$i.json";
        $children[] = [
            'index' => $i,
            'pid' => $pid,
            'exit_code' => pcntl_wifexited($status) ? pcntl_wexitstatus($status) : null,
            'signal' => pcntl_wifsignaled($status) ? pcntl_wtermsig($status) : null,
            'fork_to_exit_ms' => (hrtime(true) - $info['t_fork']) / 1e6,
            'result' => is_file($file) ? json_decode(file_get_contents($file), true) : null,
        ];
        $last = &$children[count($children) - 1];
        $last['exit_ms'] = $last['result'] ? ($t_reaped - $last['result']['t_end']) / 1e6 : null;
        unset($last);
    } else {
        usleep(2000);
    }
}
foreach ($started as $pid => $info) {  // still running after 15 s: hung (the harness dumps its stacks)
    $children[] = ['index' => $info['index'], 'pid' => $pid, 'exit_code' => null, 'signal' => null,
                   'fork_to_exit_ms' => null, 'result' => null, 'hung' => true];
}

$t = hrtime(true);
$after = it_summary($spec['after'], vault_metadata_fetch_batch($spec['after'], $opts), (hrtime(true) - $t) / 1e6);
echo json_encode(['parent' => $parent, 'children' => $children, 'after' => $after, 'parent_pid' => getmypid()]), "\n";
