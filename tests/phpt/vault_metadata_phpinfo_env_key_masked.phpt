--TEST--
vault_metadata: an API key from VAULT_YOUTUBE_API_KEY is not shown by phpinfo() either
--EXTENSIONS--
vault_metadata
--ENV--
VAULT_YOUTUBE_API_KEY=ENV-SECRET-KEY-91b3c7
--FILE--
<?php
var_dump(ini_get('vault_metadata.api_key'));
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
$start = strpos($info, "\nvault_metadata\n");
$section = $start === false ? '' : substr($info, $start);
echo 'contains the key: ', str_contains($info, 'ENV-SECRET-KEY-91b3c7') ? 'yes' : 'no', "\n";
echo 'says a key is set: ', preg_match('/^API key => set\b/m', $section) ? 'yes' : 'no', "\n";
?>
--EXPECT--
string(0) ""
contains the key: no
says a key is set: yes
