"""Harness for the multi-process integration tests of vault_metadata.

Python 3 standard library only. It starts and stops the YouTube emulator and php-fpm (each
test gets its own temp dir, cache, ledger and pool), talks FastCGI to php-fpm, reads /proc and
the SQLite files. Everything it starts is started in a new session and killed by process group
in tearDown (and at exit), whatever happened.

Environment:
  VAULT_EXT_SO   the extension to load (default: build/vault_metadata.so of the repo)
  PHP_FPM        php-fpm binary (default /usr/sbin/php-fpm8.2)
  PHP_CLI        php binary (default php)
  VAULT_IT_KEEP  1 = keep the temp dirs (logs, databases) for a post-mortem
"""

import atexit
import collections
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCRIPTS = HERE / "scripts"
EMULATOR = ROOT / "emulator" / "youtube_emulator.py"
EXT_SO = Path(os.environ.get("VAULT_EXT_SO") or ROOT / "build" / "vault_metadata.so").resolve()
PHP_FPM = os.environ.get("PHP_FPM", "/usr/sbin/php-fpm8.2")
PHP_CLI = os.environ.get("PHP_CLI", "php")
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
KEEP = os.environ.get("VAULT_IT_KEEP") == "1"
HOSTNAME = socket.gethostname()

sys.path.insert(0, str(ROOT / "emulator"))
import youtube_emulator  # noqa: E402  (for pacific_day / next_pacific_midnight)

pacific_day = youtube_emulator.pacific_day
next_pacific_midnight = youtube_emulator.next_pacific_midnight

_live_groups = set()  # process-group ids this harness started and has not reaped yet
_live_lock = threading.Lock()


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    with _live_lock:
        _live_groups.discard(pgid)


@atexit.register
def _kill_leftovers():
    with _live_lock:
        groups = list(_live_groups)
    for pgid in groups:
        _kill_group(pgid)


def log(msg):
    sys.stderr.write(f"    [it] {msg}\n")
    sys.stderr.flush()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, interval=0.05, what="condition"):
    """Polls predicate() until it returns a truthy value; returns it, or None at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


# --------------------------------------------------------------------------------------------
# /proc

def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def thread_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except FileNotFoundError:
        return None


def _live_processes_where(field, value):
    """Pids of live processes whose /proc/PID/stat field (counted after the name: 1 ppid,
    2 pgrp) equals value; a plain scan of /proc, no CONFIG_PROC_CHILDREN needed."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(rest[field]) == value and rest[0] not in ("Z", "X"):
            out.append(int(name))
    return sorted(out)


def children_of(pid):
    """Live direct children of pid."""
    return _live_processes_where(1, pid)


# --------------------------------------------------------------------------------------------
# FastCGI client

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 1, 3, 4, 5, 6, 7
FCGI_RESPONDER = 1


class FcgiError(Exception):
    pass


class Response:
    def __init__(self, status, headers, body, stderr, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.stderr = stderr
        self.elapsed = elapsed  # seconds, client side

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise AssertionError(f"not JSON (HTTP {self.status}): {self.body[:500]!r} stderr={self.stderr[:500]!r}") from e

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


def _fcgi_record(rtype, content, request_id=1):
    out = b""
    # A record carries at most 65535 bytes: split longer streams.
    chunks = [content[i:i + 65535] for i in range(0, len(content), 65535)] or [b""]
    for chunk in chunks:
        pad = (-len(chunk)) % 8
        out += struct.pack("!BBHHBB", 1, rtype, request_id, len(chunk), pad, 0) + chunk + b"\0" * pad
    return out


def _fcgi_pair(name, value):
    name, value = name.encode(), value.encode()
    out = b""
    for n in (len(name), len(value)):
        out += struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)
    return out + name + value


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        part = sock.recv(n - len(buf))
        if not part:
            raise FcgiError(f"connection closed after {len(buf)} of {n} bytes")
        buf += part
    return buf


def fcgi_request(port, script, query=None, timeout=30.0, host="127.0.0.1"):
    """Runs SCRIPTS/script through php-fpm with a GET query; one connection per request."""
    if isinstance(query, dict):
        query = urllib.parse.urlencode(query, safe=",")
    query = query or ""
    path = str(SCRIPTS / script)
    params = {
        "GATEWAY_INTERFACE": "FastCGI/1.0", "REQUEST_METHOD": "GET", "SCRIPT_FILENAME": path,
        "SCRIPT_NAME": "/" + script, "REQUEST_URI": "/" + script + ("?" + query if query else ""),
        "QUERY_STRING": query, "DOCUMENT_ROOT": str(SCRIPTS), "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "vault-it", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "12345", "CONTENT_LENGTH": "0", "CONTENT_TYPE": "",
    }
    return fcgi_exchange(port, params, timeout=timeout, host=host)


def fcgi_exchange(port, params, timeout=30.0, host="127.0.0.1"):
    """Sends one FastCGI request with these CGI params and an empty body; parses the answer."""
    payload = b"".join(_fcgi_pair(k, v) for k, v in params.items())
    message = (_fcgi_record(FCGI_BEGIN_REQUEST, struct.pack("!HB5x", FCGI_RESPONDER, 0))
               + _fcgi_record(FCGI_PARAMS, payload) + _fcgi_record(FCGI_PARAMS, b"")
               + _fcgi_record(FCGI_STDIN, b""))
    t0 = time.monotonic()
    stdout, stderr = b"", b""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(message)
        while True:
            _version, rtype, _rid, length, pad, _ = struct.unpack("!BBHHBB", _recv_exact(sock, 8))
            content = _recv_exact(sock, length + pad)[:length]
            if rtype == FCGI_STDOUT:
                stdout += content
            elif rtype == FCGI_STDERR:
                stderr += content
            elif rtype == FCGI_END_REQUEST:
                break
    elapsed = time.monotonic() - t0
    head, sep, body = stdout.partition(b"\r\n\r\n")
    if not sep:
        head, body = b"", stdout
    headers = {}
    status = 200
    for line in head.decode("latin-1").split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "status" in headers:
        status = int(headers["status"].split()[0])
    return Response(status, headers, body.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"), elapsed)


def run_concurrently(fn, args_list, start_together=True):
    """Runs fn(*args) for every args in threads (released together); returns results in order.
    An exception is returned in place of the result."""
    results = [None] * len(args_list)
    barrier = threading.Barrier(len(args_list)) if start_together and args_list else None

    def worker(i, args):
        try:
            if barrier:
                barrier.wait(10)
            results[i] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i, a), daemon=True) for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


# --------------------------------------------------------------------------------------------
# Emulator

class Emulator:
    def __init__(self, workdir, latency_ms=0):
        self.workdir = Path(workdir)
        self.port_file = self.workdir / "emulator.port"
        self.log_path = self.workdir / "emulator.log"
        self.latency_ms = latency_ms
        self.proc = None
        self.port = None

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        logf = open(self.log_path, "ab")
        args = [sys.executable, str(EMULATOR), "--host", "127.0.0.1", "--port", "0",
                "--port-file", str(self.port_file), "--compact"]
        if self.latency_ms:
            args += ["--latency-ms", str(self.latency_ms)]
        self.proc = subprocess.Popen(args, stdout=logf, stderr=logf, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        logf.close()
        with _live_lock:
            _live_groups.add(self.proc.pid)
        ok = wait_for(lambda: self.port_file.exists() and self.port_file.read_text().strip(), 15)
        if not ok:
            self.stop()
            raise RuntimeError(f"emulator did not start: {self.log_path.read_text()[-2000:]}")
        self.port = int(self.port_file.read_text().strip())
        return self

    @property
    def api_base(self):
        return f"http://127.0.0.1:{self.port}/youtube/v3"

    def _call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            text = resp.read().decode()
            if resp.status != 200:
                raise RuntimeError(f"emulator {method} {path}: {resp.status} {text[:300]}")
            return json.loads(text)
        finally:
            conn.close()

    def reset(self):
        return self._call("POST", "/_control/reset", {})

    def config(self, **kw):
        return self._call("POST", "/_control/config", kw)

    def faults(self, faults, append=False):
        return self._call("POST", "/_control/faults", {"faults": faults, "append": append})

    def counters(self, ids=True):
        return self._call("GET", "/_control/counters" + ("" if ids else "?ids=0"))

    def videos_calls(self):
        return self.counters(ids=False)["calls"]["videos"]

    def ids(self, count, start=0, kind="any"):
        out = []
        while len(out) < count:
            n = min(100000, count - len(out))
            out += self._call("GET", f"/_control/ids?kind={kind}&start={start + len(out)}&count={n}")["ids"]
        return out

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        _kill_group(self.proc.pid)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None


# --------------------------------------------------------------------------------------------
# php-fpm

class PhpFpm:
    """One php-fpm master (foreground, as root) with one pool, in its own temp dir."""

    def __init__(self, workdir, emulator=None, pm="static", max_children=4, max_requests=0,
                 start_servers=None, min_spare=None, max_spare=None, ini=None, api_base=None,
                 process_control_timeout=20, faketime_offset=None, extra_env=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.pm = pm
        self.max_children = max_children
        self.max_requests = max_requests
        self.start_servers = start_servers
        self.min_spare = min_spare
        self.max_spare = max_spare
        self.process_control_timeout = process_control_timeout
        self.faketime_offset = faketime_offset
        self.extra_env = extra_env or {}
        self.db_path = self.workdir / "cache.sqlite"
        self.quota_path = self.workdir / "quota.sqlite"
        self.log_path = self.workdir / "fpm.log"
        self.php_log_path = self.workdir / "php_errors.log"
        self.conf_path = self.workdir / "php-fpm.conf"
        base = api_base or (emulator.api_base if emulator else "http://127.0.0.1:9/youtube/v3")
        self.ini = {
            "vault_metadata.api_base": base,
            "vault_metadata.api_key": "test-key",
            "vault_metadata.db_path": str(self.db_path),
            "vault_metadata.quota_path": str(self.quota_path),
            "vault_metadata.fetch_timeout_ms": "5000",
            "vault_metadata.log_level": "info",
        }
        self.ini.update({(k if k.startswith("vault_metadata.") else "vault_metadata." + k): str(v)
                         for k, v in (ini or {}).items()})
        self.proc = None
        self.port = None

    # -- life ---------------------------------------------------------------------------------

    def _write_conf(self):
        lines = [
            "[global]",
            f"pid = {self.workdir / 'fpm.pid'}",
            f"error_log = {self.log_path}",
            "log_level = notice",
            "daemonize = no",
            f"process_control_timeout = {self.process_control_timeout}s",
            "",
            "[it]",
            f"listen = 127.0.0.1:{self.port}",
            "listen.backlog = 511",
            f"pm = {self.pm}",
            f"pm.max_children = {self.max_children}",
            f"pm.max_requests = {self.max_requests}",
        ]
        if self.pm == "dynamic":
            lines += [f"pm.start_servers = {self.start_servers or 1}",
                      f"pm.min_spare_servers = {self.min_spare or 1}",
                      f"pm.max_spare_servers = {self.max_spare or max(1, self.max_children // 2)}"]
        if self.pm == "ondemand":
            lines += ["pm.process_idle_timeout = 10s"]
        lines += [
            "catch_workers_output = yes",
            "decorate_workers_output = no",
            "clear_env = no",
            f"php_admin_value[error_log] = {self.php_log_path}",
            "php_admin_flag[log_errors] = on",
            "php_admin_flag[display_errors] = off",
            "php_admin_value[max_execution_time] = 60",
        ]
        lines += [f"php_admin_value[{k}] = {v}" for k, v in self.ini.items()]
        self.conf_path.write_text("\n".join(lines) + "\n")

    def env(self):
        env = dict(os.environ)
        env.update(self.extra_env)
        if self.faketime_offset is not None:
            # PHP dlopen()s extensions with RTLD_DEEPBIND, so an extension's calls to time() bind to libc
            # before libfaketime. Preloading the extension too makes its symbols resolve in the global
            # scope (libfaketime first); PHP's later dlopen() of the same file then reuses that copy.
            env["LD_PRELOAD"] = f"{FAKETIME_LIB} {EXT_SO}"
            env["FAKETIME"] = "%+d" % int(self.faketime_offset)
            env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"  # timeouts and libuv timers stay real
            env["FAKETIME_NO_CACHE"] = "1"
        return env

    def command(self):
        return [PHP_FPM, "-F", "-n", "-R", "-y", str(self.conf_path), "-d", f"extension={EXT_SO}"]

    def start(self, wait_workers=True):
        if not EXT_SO.exists():
            raise unittest.SkipTest(f"extension not built: {EXT_SO}")
        for attempt in range(3):
            self.port = free_port()
            self._write_conf()
            out = open(self.workdir / "fpm.stdout", "ab")
            self.proc = subprocess.Popen(self.command(), stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                         env=self.env(), start_new_session=True, cwd=str(self.workdir))
            out.close()
            with _live_lock:
                _live_groups.add(self.proc.pid)
            if wait_for(self._accepting, 10):
                break
            self.kill()
            if attempt == 2:
                raise RuntimeError(f"php-fpm did not start:\n{self.read_log()[-3000:]}")
        if wait_workers and self.pm == "static":
            if not wait_for(lambda: len(self.workers()) >= self.max_children, 10):
                raise RuntimeError(f"php-fpm workers did not start: {self.workers()}\n{self.read_log()[-2000:]}")
        return self

    def _accepting(self):
        if self.proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    @property
    def master_pid(self):
        return self.proc.pid

    def workers(self):
        return children_of(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def send_signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGQUIT, bound=10.0):
        """Signals the master and waits at most `bound` s; returns the seconds it took, or None
        when it did not exit in time (then everything is killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(bound)
            took = time.monotonic() - t0
        except subprocess.TimeoutExpired:
            took = None
        # Workers die with the master; anything left in the group is killed.
        wait_for(lambda: not self._group_alive(), 2)
        self.kill()
        return took

    def _group_alive(self):
        try:
            os.killpg(self.proc.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def kill(self):
        if self.proc is None:
            return
        _kill_group(self.proc.pid)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    # -- requests -----------------------------------------------------------------------------

    def request(self, script, query=None, timeout=30.0):
        return fcgi_request(self.port, script, query, timeout=timeout)

    def fetch(self, ids, timeout=30.0, **opts):
        """fetch.php: returns the decoded JSON (asserting HTTP 200) with 'http_elapsed' added."""
        q = {"ids": ",".join(ids)}
        q.update({k: str(int(v)) if isinstance(v, bool) else str(v) for k, v in opts.items()})
        r = self.request("fetch.php", q, timeout=timeout)
        if r.status != 200:
            raise AssertionError(f"fetch.php HTTP {r.status}: {r.body[:500]} {r.stderr[:500]}")
        data = r.json()
        data["http_elapsed"] = r.elapsed
        return data

    def quota(self):
        r = self.request("quota.php")
        if r.status != 200:
            raise AssertionError(f"quota.php HTTP {r.status}: {r.body[:300]} {r.stderr[:300]}")
        return r.json()

    # -- files --------------------------------------------------------------------------------

    def read_log(self):
        out = ""
        for p in (self.log_path, self.php_log_path, self.workdir / "fpm.stdout"):
            if p.exists():
                out += f"==> {p.name}\n" + p.read_text(errors="replace")
        return out

    def ledger(self, day=None):
        """{'day', 'used', 'exhausted'} of the ledger for `day` (default: today in Pacific time of the
        real clock), or None when the file or the row does not exist."""
        day = day or pacific_day(time.time()).isoformat()
        rows = query_sqlite(self.quota_path, "SELECT day, used, exhausted FROM quota_days WHERE day = ?", (day,))
        if not rows:
            return None
        return {"day": rows[0][0], "used": rows[0][1], "exhausted": rows[0][2]}

    def ledger_days(self):
        rows = query_sqlite(self.quota_path, "SELECT day, used, exhausted FROM quota_days ORDER BY day")
        return {r[0]: {"used": r[1], "exhausted": r[2]} for r in rows or []}

    def lease(self, name="refresh"):
        """(holder, expires_at) of the lease row, or None (no table, no row)."""
        try:
            rows = query_sqlite(self.db_path, "SELECT holder, expires_at FROM leases WHERE name = ?", (name,),
                                raise_errors=True)
        except sqlite3.OperationalError:
            return None
        return tuple(rows[0]) if rows else None


def query_sqlite(path, sql, args=(), raise_errors=False):
    """Reads with a read-only connection (never checkpoints, never writes); None when absent."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        conn = sqlite3.connect(str(path), timeout=5)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        if raise_errors:
            raise
        return None
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# Base test case

class IntegrationCase(unittest.TestCase):
    """One emulator per test class (reset before every test); php-fpm per test via start_fpm()."""

    emulator_latency_ms = 0

    @classmethod
    def setUpClass(cls):
        cls.class_dir = Path(tempfile.mkdtemp(prefix=f"vault-it-{cls.__name__}-"))
        cls.emu = Emulator(cls.class_dir / "emulator", latency_ms=cls.emulator_latency_ms).start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        if not KEEP:
            shutil.rmtree(cls.class_dir, ignore_errors=True)

    def setUp(self):
        self.emu.reset()
        self.test_dir = Path(tempfile.mkdtemp(prefix=self._testMethodName + "-", dir=self.class_dir))
        self._fpms = []
        self._id_cursor = 0

    def tearDown(self):
        failed = self._outcome_failed()
        for fpm in self._fpms:
            if failed:
                tail = fpm.read_log()[-2500:]
                if tail.strip():
                    log(f"php-fpm logs of the failed test {self._testMethodName}:\n{tail}")
            fpm.stop(bound=5)
            fpm.kill()

    def _outcome_failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        result = getattr(outcome, "result", None)
        errors = list(getattr(result, "errors", [])) + list(getattr(result, "failures", []))
        return any(test is self for test, _ in errors) or not getattr(outcome, "success", True)

    def start_fpm(self, name="fpm", **kw):
        kw.setdefault("emulator", self.emu)
        fpm = PhpFpm(self.test_dir / name, **kw)
        self._fpms.append(fpm)
        return fpm.start()

    def new_ids(self, count, kind="any"):
        """Ids never used before in this test (the emulator corpus returns every one of kind 'any')."""
        start = self._id_cursor
        self._id_cursor += count
        return self.emu.ids(count, start=start, kind=kind)

    def settle_units(self, fpm, day=None, today=False, timeout=6.0):
        """Waits until upstream is idle and the ledger's `used` equals what the emulator billed, the
        same on two reads 0.3 s apart (channels.list calls for handles go out after the videos round,
        and a call is billed by the emulator only after its latency). Returns the units; fails the
        test with both figures when they never agree."""
        last = {}

        def agreed():
            c = self.emu.counters(ids=False)
            row = fpm.ledger(day)
            units = c["units_today"] if today else c["units"]
            last.update(ledger=row and row["used"], units=units, in_flight=c["in_flight"])
            return c["in_flight"] <= 0 and row is not None and row["used"] == units

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if agreed():
                time.sleep(0.3)
                if agreed():
                    return last["units"]
            time.sleep(0.1)
        self.fail(f"the ledger says {last.get('ledger')} units used, upstream billed {last.get('units')} "
                  f"(in flight {last.get('in_flight')}), still after {timeout} s")

    def assertAllOk(self, results):
        for r in results:
            if isinstance(r, BaseException):
                raise r

    def php_cli(self, script, args=(), ini=None, timeout=60):
        """Runs a CLI script (own process group). Returns (exit code, stdout, stderr, leftovers): leftovers
        are processes of its group still alive once it exited (e.g. hung children), whose stacks are
        logged before the group is killed."""
        cmd = [PHP_CLI, "-n", "-d", f"extension={EXT_SO}"]
        for k, v in (ini or {}).items():
            cmd += ["-d", f"{k}={v}"]
        cmd += [str(SCRIPTS / script)] + [str(a) for a in args]
        out_path, err_path = self.test_dir / f"{script}.stdout", self.test_dir / f"{script}.stderr"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        with _live_lock:
            _live_groups.add(proc.pid)
        leftovers = []
        try:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"php {script} did not finish in {timeout} s; stacks:\n{dump_stacks(group_members(proc.pid))}")
                raise AssertionError(f"php {script} did not finish in {timeout}s: "
                                     f"{err_path.read_text(errors='replace')[-2000:]}")
            if not wait_for(lambda: not group_members(proc.pid), 2):
                leftovers = group_members(proc.pid)
            if leftovers:
                log(f"php {script} exited but left {leftovers} running; stacks:\n{dump_stacks(leftovers)}")
        finally:
            _kill_group(proc.pid)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        return (proc.returncode, out_path.read_text(errors="replace"), err_path.read_text(errors="replace"),
                leftovers)


def group_members(pgid):
    return _live_processes_where(2, pgid)


def dump_stacks(pids, limit=6000):
    """Thread stacks of pids (gdb when installed, else the kernel's wchan per thread), for a hang report."""
    parts = []
    for pid in pids[:4]:
        text = ""
        if shutil.which("gdb"):
            try:
                text = subprocess.run(["gdb", "-batch", "-nx", "-p", str(pid), "-ex", "thread apply all bt 25"],
                                      capture_output=True, text=True, timeout=30).stdout
                text = "\n".join(l for l in text.splitlines() if l.startswith(("#", "Thread")))
            except (subprocess.TimeoutExpired, OSError):
                text = ""
        if not text:
            try:
                text = "\n".join(f"task {t}: " + open(f"/proc/{pid}/task/{t}/wchan").read()
                                 for t in os.listdir(f"/proc/{pid}/task"))
            except OSError as e:
                text = repr(e)
        parts.append(f"--- pid {pid}\n{text}")
    return "\n".join(parts)[-limit:]


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return values[k]


Counter = collections.Counter
