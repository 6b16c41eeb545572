"""Helpers of the ops tests: php-fpm with a client's headers over FastCGI, the operator CLI, a real
VictoriaMetrics, a fake IndexNow endpoint, killing one thread of a worker with gdb, and the record of
everything the run produced (for the final privacy scan).

Reuses tests/integration/harness.py (emulator, php-fpm life, FastCGI framing). Python standard library.

Environment: VAULT_EXT_SO (the extension), VAULT_OPS_WORK (where every file of the run goes; the
privacy scan reads all of it), PHP_FPM, PHP_CLI, VICTORIA_METRICS (default /usr/bin/victoria-metrics).
"""

import http.server
import json
import os
import pty
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import harness  # noqa: E402
from harness import Emulator, PhpFpm, free_port, log, run_concurrently, wait_for  # noqa: E402,F401

EXT_SO = harness.EXT_SO
PHP_CLI = harness.PHP_CLI
FAKETIME_LIB = harness.FAKETIME_LIB
VICTORIA_METRICS = os.environ.get("VICTORIA_METRICS", "/usr/bin/victoria-metrics")
WORK = Path(os.environ.get("VAULT_OPS_WORK") or tempfile.mkdtemp(prefix="vault-ops-"))
WORK.mkdir(parents=True, exist_ok=True)
ARTIFACTS = WORK / "artifacts"
ARTIFACTS.mkdir(exist_ok=True)

CLI = ROOT / "php-examples" / "vault-cli.php"
HEALTHZ = ROOT / "php-examples" / "healthz.php"
OPS_SCRIPT = HERE / "scripts" / "ops.php"

# What must never appear in anything the product prints, logs, stores or pushes.
_tag = secrets.token_hex(6)
SECRET_API_KEY = f"AIzaOpsLeakKey-{_tag}-x9"
CLIENT_UA = f"OpsLeakAgent/7.1 (leak-ua-{_tag})"
CLIENT_FORWARDED = "198.51.100.173"
CLIENT_ADDR = "203.0.113.219"
CLIENT_REFERER = f"https://leak-referer-{_tag}.example/page"
NEEDLES = {"API key": SECRET_API_KEY, "user agent": CLIENT_UA, "X-Forwarded-For": CLIENT_FORWARDED,
           "REMOTE_ADDR": CLIENT_ADDR, "referer": CLIENT_REFERER}

_seq = [0]
_seq_lock = threading.Lock()


def next_seq():
    with _seq_lock:
        _seq[0] += 1
        return _seq[0]


def save_artifact(name, text):
    """Keeps an output of the product (events, stats, metrics, phpinfo, exports) for the scan."""
    path = ARTIFACTS / f"{next_seq():03d}-{name}"
    path.write_text(text if isinstance(text, str) else json.dumps(text, indent=1))
    return path


# --------------------------------------------------------------------------------------------
# FastCGI, as a browser behind a proxy would reach the pool

def fcgi(port, script, query=None, timeout=30.0):
    if isinstance(query, dict):
        query = urllib.parse.urlencode(query, safe=",:/")
    query = query or ""
    script = str(script)
    name = "/" + Path(script).name
    params = {
        "GATEWAY_INTERFACE": "FastCGI/1.0", "REQUEST_METHOD": "GET", "SCRIPT_FILENAME": script,
        "SCRIPT_NAME": name, "REQUEST_URI": name + ("?" + query if query else ""), "QUERY_STRING": query,
        "DOCUMENT_ROOT": str(Path(script).parent), "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_SOFTWARE": "vault-ops",
        "SERVER_NAME": "site.example", "SERVER_PORT": "443", "HTTPS": "on",
        "REMOTE_ADDR": CLIENT_ADDR, "REMOTE_PORT": "51234", "CONTENT_LENGTH": "0", "CONTENT_TYPE": "",
        "HTTP_HOST": "site.example", "HTTP_USER_AGENT": CLIENT_UA, "HTTP_X_FORWARDED_FOR": CLIENT_FORWARDED,
        "HTTP_X_REAL_IP": CLIENT_FORWARDED, "HTTP_REFERER": CLIENT_REFERER,
    }
    return harness.fcgi_exchange(port, params, timeout=timeout)


class OpsFpm(PhpFpm):
    """php-fpm with the test's API key, debug logging, and optionally a clock sped up by libfaketime."""

    def __init__(self, workdir, emulator=None, ini=None, speedup=None, **kw):
        base = {"api_key": SECRET_API_KEY, "log_level": "debug", "refresh_interval": 600, "fetch_timeout_ms": 5000}
        base.update(ini or {})
        super().__init__(workdir, emulator=emulator, ini=base, **kw)
        self.speedup = speedup

    def env(self):
        env = super().env()
        if self.speedup:
            # The extension is preloaded with libfaketime (PHP dlopen()s it with RTLD_DEEPBIND); monotonic
            # clocks stay real, so libuv timers, curl timeouts and flush intervals run in real seconds.
            env["LD_PRELOAD"] = f"{FAKETIME_LIB} {EXT_SO}"
            env["FAKETIME"] = f"+0 x{self.speedup}"
            env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
            env["FAKETIME_NO_CACHE"] = "1"
        return env

    def ops(self, do, timeout=30.0, **q):
        q["do"] = do
        return fcgi(self.port, OPS_SCRIPT, {k: str(v) for k, v in q.items()}, timeout=timeout)

    def ops_json(self, do, timeout=30.0, **q):
        r = self.ops(do, timeout=timeout, **q)
        if r.status != 200:
            raise AssertionError(f"ops.php?do={do}: HTTP {r.status} {r.body[:400]} {r.stderr[:400]}")
        return r.json()

    def healthz(self):
        return fcgi(self.port, HEALTHZ)


# --------------------------------------------------------------------------------------------
# The operator CLI

_php_ext_dir = None


def _shared_php_extensions():
    """-d extension=... for sqlite3 and posix when PHP has them as shared modules (php -n loads none)."""
    global _php_ext_dir
    if _php_ext_dir is None:
        try:
            _php_ext_dir = subprocess.run([PHP_CLI, "-n", "-r", "echo ini_get('extension_dir');"],
                                          capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            _php_ext_dir = ""
    out = []
    for name in ("sqlite3", "posix"):
        if _php_ext_dir and Path(_php_ext_dir, name + ".so").exists():
            out += ["-d", f"extension={name}"]
    return out


class CliResult:
    def __init__(self, rc, out, err, elapsed):
        self.rc, self.out, self.err, self.elapsed = rc, out, err, elapsed

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as e:
            raise AssertionError(f"CLI output is not JSON (rc {self.rc}): {self.out[:600]!r} {self.err[:600]!r}") from e

    def __repr__(self):
        return f"<CLI rc={self.rc} out={self.out[:300]!r} err={self.err[:300]!r}>"


def run_cli(args, ini=None, faketime=None, env_extra=None, tty=False, stdin_text=None, timeout=120):
    """php -n -d extension=... vault-cli.php ARGS, as an operator would run it (with -d settings in place of
    the pool's php.ini). Output is kept under WORK/cli for the privacy scan. tty=True gives it a
    pseudo-terminal on stderr (the progress bar)."""
    cmd = [PHP_CLI, "-n"] + _shared_php_extensions() + ["-d", f"extension={EXT_SO}"]
    for k, v in (ini or {}).items():
        cmd += ["-d", f"{k if '.' in k or k in ('error_log', 'log_errors') else 'vault_metadata.' + k}={v}"]
    cmd += [str(CLI)] + [str(a) for a in args]
    env = dict(os.environ)
    env.pop("VAULT_YOUTUBE_API_KEY", None)
    env.update(env_extra or {})
    if faketime is not None:
        env["LD_PRELOAD"] = f"{FAKETIME_LIB} {EXT_SO}"
        env["FAKETIME"] = faketime
        env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
        env["FAKETIME_NO_CACHE"] = "1"
    out_dir = WORK / "cli"
    out_dir.mkdir(exist_ok=True)
    stem = out_dir / f"{next_seq():03d}-{'-'.join(str(a) for a in args[:1]) or 'none'}"
    t0 = time.monotonic()
    master = slave = None
    if tty:
        master, slave = pty.openpty()
    with open(f"{stem}.out", "wb") as out, open(f"{stem}.err", "wb") as err_file:
        proc = subprocess.Popen(cmd, stdout=out, stderr=slave if tty else err_file,
                                stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                                env=env, start_new_session=True)
        chunks = []
        reader = None
        if tty:
            os.close(slave)

            def read_pty():
                while True:
                    try:
                        data = os.read(master, 65536)
                    except OSError:
                        break
                    if not data:
                        break
                    chunks.append(data)
            reader = threading.Thread(target=read_pty, daemon=True)
            reader.start()
        try:
            if stdin_text is not None:
                proc.stdin.write(stdin_text.encode())
                proc.stdin.close()
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            harness._kill_group(proc.pid)
            proc.wait(5)
            raise AssertionError(f"the CLI did not finish in {timeout} s: {' '.join(cmd[-3:])}")
        if reader:
            reader.join(5)
            os.close(master)
            err_file.write(b"".join(chunks))
    elapsed = time.monotonic() - t0
    def read(path):  # keeps \r (the progress bar) as it is
        with open(path, errors="replace", newline="") as f:
            return f.read()
    return CliResult(proc.returncode, read(f"{stem}.out"), read(f"{stem}.err"), elapsed)


# --------------------------------------------------------------------------------------------
# VictoriaMetrics

class VictoriaMetrics:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.proc = None
        self.port = None

    def start(self):
        if not Path(VICTORIA_METRICS).exists():
            raise unittest.SkipTest(f"{VICTORIA_METRICS} not installed (Debian package victoria-metrics)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            self.port = free_port()
            logf = open(self.workdir / "victoria-metrics.log", "ab")
            self.proc = subprocess.Popen(
                [VICTORIA_METRICS, "-storageDataPath", str(self.workdir / "vm-data"),
                 "-httpListenAddr", f"127.0.0.1:{self.port}", "-retentionPeriod", "1y",
                 "-loggerLevel", "WARN"],
                stdout=logf, stderr=logf, stdin=subprocess.DEVNULL, start_new_session=True)
            logf.close()
            with harness._live_lock:
                harness._live_groups.add(self.proc.pid)
            if wait_for(self._healthy, 15, interval=0.1):
                return self
            self.stop()
        raise RuntimeError("victoria-metrics did not start: "
                           + (self.workdir / "victoria-metrics.log").read_text(errors="replace")[-2000:])

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _get(self, path, timeout=10):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as resp:
            return resp.read().decode()

    def _healthy(self):
        if self.proc.poll() is not None:
            return False
        try:
            return self._get("/health", timeout=1).strip() == "OK"
        except OSError:
            return False

    def export(self, match, start=0, end=None):
        """Raw samples: {(name, frozenset(labels)): [(timestamp_ms, value), ...]}."""
        try:
            self._get("/internal/force_flush")
        except OSError:
            pass
        end = end or int(time.time()) + 30 * 86400
        q = urllib.parse.urlencode({"match[]": match, "start": start, "end": end})
        text = self._get("/api/v1/export?" + q)
        series = {}
        for line in text.splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            metric = dict(row["metric"])
            name = metric.pop("__name__")
            key = (name, frozenset(metric.items()))
            series.setdefault(key, []).extend(zip(row["timestamps"], row["values"]))
        return series, text

    def import_requests(self):
        for line in self._get("/metrics").splitlines():
            if line.startswith("vm_http_requests_total") and '"/api/v1/import/prometheus"' in line:
                return int(float(line.rsplit(" ", 1)[1]))
        return 0

    def stop(self):
        if self.proc is None:
            return
        harness._kill_group(self.proc.pid)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None


# --------------------------------------------------------------------------------------------
# A fake IndexNow endpoint

class FakeIndexNow:
    """Records every POST (monotonic time, headers, raw body, parsed JSON) and answers statuses
    scripted per batch, keyed by the first URL of its urlList (default 200)."""

    def __init__(self):
        self.posts = []
        self.script = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                first = body["urlList"][0] if isinstance(body, dict) and body.get("urlList") else None
                with fake.lock:
                    queue = fake.script.get(first)
                    status = queue.pop(0) if queue else 200
                    fake.posts.append({"t": time.monotonic(), "path": self.path, "status": status,
                                       "content_type": self.headers.get("Content-Type"), "raw": raw, "body": body})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/indexnow"

    def count(self):
        with self.lock:
            return len(self.posts)

    def snapshot(self):
        with self.lock:
            return list(self.posts)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------------------------
# Killing only the loop thread of a worker

_GDB_SCRIPT = r'''
import gdb
found = None
for inferior in gdb.inferiors():
    for thread in inferior.threads():
        thread.switch()
        frame = gdb.newest_frame()
        names = []
        while frame is not None:
            names.append(frame.name() or "")
            frame = frame.older()
        if any("uv_run" in n or "run_loop" in n for n in names):
            found = thread
            break
if found is None:
    print("OPS-KILL: none")
else:
    # The thread sits in epoll_wait, just after its `syscall` instruction. Point it back at that
    # instruction with SYS_exit (60) in rax, no restart of the interrupted call: on detach it ends
    # itself, alone. (An inferior call would never return to gdb.)
    found.switch()
    gdb.execute("frame 0")
    pc = int(gdb.parse_and_eval("$pc"))
    code = bytes(gdb.selected_inferior().read_memory(pc - 2, 2))
    if code != b"\x0f\x05":
        print("OPS-KILL: not at a syscall: %s" % code.hex())
    else:
        gdb.execute("set $orig_rax = -1")
        gdb.execute("set $rax = 60")
        gdb.execute("set $rdi = 0")
        gdb.execute("set $pc = %d" % (pc - 2))
        print("OPS-KILL: tid %d" % found.ptid[1])
'''


def kill_loop_thread(pid):
    """Ends the libuv loop thread of process `pid` with SYS_exit injected by gdb (the process and its
    other threads go on). Returns the thread id; raises SkipTest without gdb, AssertionError on failure."""
    gdb = shutil.which("gdb")
    if not gdb:
        raise unittest.SkipTest("gdb is not installed: no way to end only the loop thread")
    script = WORK / "kill_loop_thread.py"
    script.write_text(_GDB_SCRIPT)
    proc = subprocess.run([gdb, "-batch", "-nx", "-iex", "set debuginfod enabled off", "-p", str(pid),
                           "-x", str(script)], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    for line in proc.stdout.splitlines():
        if line.startswith("OPS-KILL: tid "):
            tid = int(line.split()[-1])
            if wait_for(lambda: not Path(f"/proc/{pid}/task/{tid}").exists(), 5):
                return tid
            raise AssertionError(f"thread {tid} of {pid} still exists after SYS_exit")
    raise AssertionError(f"gdb found no loop thread in {pid}: {proc.stdout[-1500:]} {proc.stderr[-1500:]}")


def chattr(flag, path):
    proc = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True)
    return proc.returncode == 0, proc.stderr.strip()
