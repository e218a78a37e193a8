#!/usr/bin/python3
"""The benchmark driver behind scripts/bench (see bench/README.md).

Runs, in one go on one corpus: the ZeroMQ transport limit, the scan limit
(and classify, literal pack, no-SOM pack), the daemon end to end at full load
and at fractions of it, the daemon on stores prefilled with a small and a
large number of customers, complaintctl classify, and the peers (ripgrep, GNU
grep, PCRE2-JIT, Python pyzmq+re). Every figure but the one-off ones is
repeated; the table shows medians and the ratios the targets are stated in.
Writes bench/results/<date>.json and bench/results/latency.png.
"""
import argparse
import datetime
import glob
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODES = {
    # corpus events, distinct customers, repeats, e2e full-load events, half-load seconds,
    # scan seconds, classify events, peer texts, python events, sweep fractions,
    # customers prefilled in the small and the large store and events sent to each per repeat
    # (prefilling 10M customers takes about a minute; --quick makes do with 1M), bench_model rounds
    'quick': dict(corpus=50000, customers=100000, repeats=2, full_events=40000, half_secs=6, scan_secs=1.0,
                  zmq_events=300000, classify_events=10000, peer_texts=2000, py_events=1000,
                  sweep=[], nosom=False, compile_nocache=False, stores=[100000, 1000000], store_events=40000,
                  model_rounds=3),
    'default': dict(corpus=200000, customers=100000, repeats=5, full_events=120000, half_secs=12, scan_secs=2.0,
                    zmq_events=1000000, classify_events=30000, peer_texts=5000, py_events=2000,
                    sweep=[0.25, 0.75, 0.9], nosom=True, compile_nocache=True, stores=[100000, 10000000],
                    store_events=120000, model_rounds=5),
    'long': dict(corpus=1000000, customers=10000000, repeats=1, full_events=10000000, half_secs=30,
                 scan_secs=2.0, zmq_events=1000000, classify_events=30000, peer_texts=5000, py_events=2000,
                 sweep=[0.25, 0.75, 0.9], nosom=True, compile_nocache=True, stores=[100000, 10000000],
                 store_events=1000000, model_rounds=5),
}
STORE_TARGET_CUSTOMERS = 10000000  # issue 5: with 10M customers in history, >= 0.8x the rate with 100k
HEAP_FLAT_PCT = 5  # --long: the heap's last third within this much of its middle third is "flat"


def log(*a):
    print('bench:', *a, file=sys.stderr, flush=True)


def run_json(cmd, **kw):
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, **kw).stdout
    return json.loads(out.strip().splitlines()[-1])


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def loadavg():
    with open('/proc/loadavg') as f:
        return float(f.read().split()[0])


class Daemon:
    """complaintd on loopback, with RSS sampled every second."""

    def __init__(self, a, tools, workdir, port, cache, tag, extra=(), data=None):
        """A fresh data directory, or data: an existing one (a prefilled store), kept as it is."""
        if data:
            self.data = data
        else:
            self.data = os.path.join(workdir, 'data-' + tag)
            shutil.rmtree(self.data, ignore_errors=True)
        self.ingest = f'tcp://127.0.0.1:{port}'
        self.publish = f'tcp://127.0.0.1:{port + 1}'
        self.control = f'tcp://127.0.0.1:{port + 2}'
        self.metrics_url = f'http://127.0.0.1:{port + 4}/metrics'
        self.log_path = os.path.join(workdir, f'complaintd-{tag}.log')
        env = dict(os.environ, COMPLAINTD_CACHE=cache)
        # every endpoint on our own ports, so that two runs (or a demo) on one machine do not collide
        cmd = [tools['complaintd'], '--ingest', self.ingest, '--publish', self.publish, '--control', self.control,
               '--ingest-acked', f'tcp://127.0.0.1:{port + 3}', '--metrics', f'127.0.0.1:{port + 4}',
               '--data-dir', self.data, '--rules', a.rules_snapshot] + list(extra)
        self.logf = open(self.log_path, 'w')
        t0 = time.monotonic()
        self.p = subprocess.Popen(cmd, stderr=subprocess.PIPE, env=env, text=True)
        self.ready_ms = None
        for line in self.p.stderr:
            self.logf.write(line)
            if line.strip() == 'ready':
                self.ready_ms = (time.monotonic() - t0) * 1000
                break
        if self.ready_ms is None:
            raise RuntimeError(f'complaintd did not start; see {self.log_path}')
        threading.Thread(target=self._drain, daemon=True).start()
        self.rss = []  # (seconds since start, VmRSS kB, RssAnon kB, RssFile kB)
        self._stop = threading.Event()
        self.t0 = time.monotonic()
        threading.Thread(target=self._sample, daemon=True).start()

    def _drain(self):
        for line in self.p.stderr:
            self.logf.write(line)

    def _sample(self):
        while not self._stop.is_set():
            try:
                v = {}
                with open(f'/proc/{self.p.pid}/status') as f:
                    for line in f:
                        if line.startswith(('VmRSS:', 'RssAnon:', 'RssFile:')):
                            v[line.split(':')[0]] = int(line.split()[1])
                if v:
                    self.rss.append((round(time.monotonic() - self.t0, 1), v.get('VmRSS', 0), v.get('RssAnon', 0),
                                     v.get('RssFile', 0)))
            except OSError:
                return
            self._stop.wait(1.0)

    def stats(self, tools):
        try:
            out = subprocess.run([tools['complaintctl'], 'stats', '--control', self.control], check=True,
                                 stdout=subprocess.PIPE, text=True, timeout=10).stdout
            return json.loads(out)
        except (subprocess.SubprocessError, ValueError):
            return None

    def io(self):
        """Bytes the daemon has written (to the page cache, then disk): /proc/PID/io write_bytes."""
        try:
            with open(f'/proc/{self.p.pid}/io') as f:
                return {k: int(v) for k, v in (line.split(': ') for line in f)}
        except OSError:
            return {}

    def stop(self):
        self.io_at_stop = self.io()
        self._stop.set()
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.logf.close()

    def history_bytes(self):
        return store_stat(self.data)


class Echo:
    """bench/echo_limit on loopback: a relay that does no work (durable: one flushed append per group),
    the floor under any daemon's latency and rate on this machine."""

    def __init__(self, tools, workdir, port, durable):
        self.ingest = f'tcp://127.0.0.1:{port}'
        self.publish = f'tcp://127.0.0.1:{port + 1}'
        cmd = [tools['echo_limit'], '--ingest', self.ingest, '--publish', self.publish]
        if durable:
            cmd += ['--durable', os.path.join(workdir, 'echo.log')]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if self.p.stderr.readline().strip() != 'ready':
            raise RuntimeError('echo_limit did not start: ' + ' '.join(cmd))

    def stop(self):
        """Its summary: echoed, groups, events_per_group, flush_ms_mean, flush_ms_p99, flush_ms_max."""
        self.p.send_signal(signal.SIGTERM)
        out, _ = self.p.communicate(timeout=30)
        return json.loads(out.strip().splitlines()[-1])


def echo_floor(tools, work, port, corpus, full_events, half_rate, half_events, run_id, durable):
    """echo_limit at full speed and at the daemon's half-load rate: {'full': loadgen, 'half': loadgen, 'echo'}."""
    e = Echo(tools, work, port, durable)
    res = {'full': loadgen(tools, e, corpus, full_events, run_id),
           'half': loadgen(tools, e, corpus, half_events, run_id + 1, rate=half_rate,
                           skip=int(half_rate * 0.5))}
    res['echo'] = e.stop()
    return res


def store_stat(data):
    """Bytes of the customers sub-database per customer record (mdb_stat), and the file size."""
    res = {'data_mdb_bytes': os.path.getsize(os.path.join(data, 'data.mdb'))}
    if shutil.which('mdb_stat'):
        out = subprocess.run(['mdb_stat', '-a', data], stdout=subprocess.PIPE, text=True).stdout
        dbs, cur = {}, None
        for line in out.splitlines():
            m = re.match(r'Status of (\S+)', line)
            if m:
                cur = dbs.setdefault(m.group(1), {})
                continue
            m = re.match(r'\s+(Branch pages|Leaf pages|Overflow pages|Entries): (\d+)', line)
            if m and cur is not None:
                cur[m.group(1)] = int(m.group(2))
        for name, d in dbs.items():
            pages = d.get('Branch pages', 0) + d.get('Leaf pages', 0) + d.get('Overflow pages', 0)
            res[name] = {'entries': d.get('Entries', 0), 'bytes': pages * 4096}
        c = res.get('customers')
        if c and c['entries']:
            res['customer_bytes_per_customer'] = c['bytes'] / c['entries']
    return res


STAGES = ('labelled', 'committed', 'published')


def scrape_stages(d):
    """{stage: [(le seconds, cumulative count)]} of complaintd_event_stage_seconds, from /metrics."""
    try:
        with urllib.request.urlopen(d.metrics_url, timeout=5) as r:
            body = r.read().decode()
    except OSError:
        return {}
    out = {}
    for m in re.finditer(r'complaintd_event_stage_seconds_bucket\{stage="([^"]+)",le="([^"]+)"\} (\S+)', body):
        out.setdefault(m.group(1), []).append((float(m.group(2)), float(m.group(3))))
    return out


def stage_quantiles(before, after):
    """Per stage, the upper bound (us) of the bucket holding the p50 and the p99 of what was
    observed between two scrapes: powers of two, so 'at most'."""
    res = {}
    for stage, buckets in after.items():
        prev = dict(before.get(stage, []))
        delta = [(le, c - prev.get(le, 0)) for le, c in buckets]
        n = delta[-1][1] if delta else 0
        if n <= 0:
            continue
        res[stage] = {}
        for q, key in ((0.5, 'p50_us'), (0.99, 'p99_us')):
            le = next(le for le, c in delta if c >= q * n)
            res[stage][key] = None if le == float('inf') else le * 1e6
    return res


def loadgen_staged(tools, d, corpus, events, run_id, rate=None, skip=0):
    """loadgen, with where the run's events waited (the daemon's stage histograms) under 'stages'."""
    before = scrape_stages(d)
    res = loadgen(tools, d, corpus, events, run_id, rate=rate, skip=skip)
    res['stages'] = stage_quantiles(before, scrape_stages(d))
    return res


def loadgen(tools, d, corpus, events, run_id, rate=None, skip=0):
    cmd = [tools['loadgen'], '--corpus', corpus, '--ingest', d.ingest, '--publish', d.publish,
           '--events', str(events), '--run-id', str(run_id), '--skip', str(skip), '--idle-timeout', '15000']
    if rate:
        cmd += ['--rate', str(int(rate))]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def prefill_stores(tools, cfg, work, corpus):
    """Data directories prefilled (bench/prefill.c) with each of cfg['stores'] customers, c1..cN,
    and a corpus drawn over the smallest store's ids, so that every event hits a history in every
    store and each store is decided the same way: a customer's prefilled history depends on its id
    alone. Returns (stores, corpus path, config file giving the daemon a map large enough)."""
    small = min(cfg['stores'])
    store_corpus = corpus
    if cfg['customers'] != small:
        store_corpus = os.path.join(work, f'corpus-{small}.pb')
        log(f"generating the stores' corpus: {min(cfg['corpus'], 200000)} events over {small} customers")
        subprocess.run([tools['gen_stream'], '--events', str(min(cfg['corpus'], 200000)), '--customers', str(small),
                        '--seed', '7', '--format', 'pb', '--out', store_corpus], check=True)
    stores = []
    for n in cfg['stores']:
        d = os.path.join(work, f'store-{n}')
        shutil.rmtree(d, ignore_errors=True)
        log(f'prefilling a store with {n:,} customers')
        p = run_json([tools['prefill'], '--data-dir', d, '--customers', str(n), '--quiet'])
        stores.append({'customers': n, 'dir': d, 'prefill': p, 'at_prefill': store_stat(d), 'runs': []})
        log(f"  {p['seconds']:.1f} s, data.mdb {p['data_mdb_bytes'] / 1e6:,.0f} MB")
    # The map is address space, not disk: room for the biggest store and, per event sent, far more
    # than a decision and its pages take. The same for every store.
    grow = cfg['repeats'] * cfg['store_events'] * 16384
    map_mb = (max(x['prefill']['data_mdb_bytes'] for x in stores) + grow) // (1 << 20) + 1024
    conf = os.path.join(work, 'store.conf')
    with open(conf, 'w') as f:
        f.write(f'map_size_mb = {map_mb}\n')
    return stores, store_corpus, conf


def store_run(a, tools, work, cache, store, corpus, conf, events, run_id):
    """The daemon at full load on a prefilled store (durable, default config but the map size)."""
    d = Daemon(a, tools, work, a.port, cache, f"store-{store['customers']}-{run_id}", extra=['--config', conf],
               data=store['dir'])
    x = loadgen(tools, d, corpus, events, run_id=run_id)
    x['stats'] = d.stats(tools)
    x['ready_ms'] = d.ready_ms
    d.stop()
    x['write_bytes'] = d.io_at_stop.get('write_bytes')
    return x


def classify_throughput(tools, jsonl_parts, cache, rules):
    """events/s of complaintctl classify over the parts run concurrently, net of the pack load."""
    env = dict(os.environ, COMPLAINTD_CACHE=cache)
    t0 = time.monotonic()
    subprocess.run([tools['complaintctl'], 'classify', '--rules', rules, '/dev/null'], check=True,
                   stdout=subprocess.DEVNULL, env=env)
    fixed = time.monotonic() - t0
    n = 0
    for part in jsonl_parts:
        with open(part) as f:
            n += sum(1 for _ in f)
    t0 = time.monotonic()
    procs = [subprocess.Popen([tools['complaintctl'], 'classify', '--rules', rules, part],
                              stdout=subprocess.DEVNULL, env=env) for part in jsonl_parts]
    for p in procs:
        p.wait()
    wall = time.monotonic() - t0
    return {'events': n, 'wall_s': wall, 'startup_s': fixed, 'events_per_s': n / wall,
            'events_per_s_net': n / max(wall - fixed, 1e-3)}


def fsync_probe(work, n=100):
    """The disk's floor under a durable commit: 4 KB written at the end of a file, then fdatasync."""
    path = os.path.join(work, 'fsync.probe')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    ms = []
    for _ in range(n):
        os.write(fd, b'x' * 4096)
        t0 = time.monotonic()
        os.fdatasync(fd)
        ms.append((time.monotonic() - t0) * 1000)
    os.close(fd)
    os.unlink(path)
    ms.sort()
    return {'n': n, 'p50_ms': ms[n // 2], 'p99_ms': ms[int((n - 1) * 0.99)], 'max_ms': ms[-1]}


def time_cmd(cmd, env=None, stdin=None):
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, stdin=stdin)
    return time.monotonic() - t0, p


def grep_peer(cmd, texts_file, n_texts, env=None):
    """texts/s of a line filter, net of its start-up (pattern compile) on an empty input."""
    empty = texts_file + '.empty'
    open(empty, 'w').close()
    t_fixed, _ = time_cmd(cmd + [empty], env=env)
    t, p = time_cmd(cmd + [texts_file], env=env)
    if p.returncode not in (0, 1):
        return {'error': p.stderr.strip()[:300]}
    lines = int(p.stdout.strip() or 0)
    return {'texts': n_texts, 'matching_lines': lines, 'wall_s': t, 'startup_s': t_fixed,
            'texts_per_s': n_texts / t, 'texts_per_s_net': n_texts / max(t - t_fixed, 1e-3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mode', choices=MODES, default='default')
    ap.add_argument('--tools', required=True, help='JSON: tool name -> path')
    ap.add_argument('--rules', default=os.path.join(REPO, 'rules'))
    ap.add_argument('--cache', default=None, help='compiled-rules cache (default: a persistent dir under build-bench)')
    ap.add_argument('--workdir', default=None)
    ap.add_argument('--port', type=int, default=57600)
    ap.add_argument('--repeats', type=int, default=None)
    ap.add_argument('--out', default=os.path.join(REPO, 'bench', 'results'))
    a = ap.parse_args()
    cfg = dict(MODES[a.mode])
    if a.repeats:
        cfg['repeats'] = a.repeats
    tools = json.loads(a.tools)
    work = a.workdir or tempfile.mkdtemp(prefix='complaintd-bench-')
    os.makedirs(work, exist_ok=True)
    cache = a.cache or os.path.join(REPO, 'build-bench', 'bench-cache')
    os.makedirs(cache, exist_ok=True)
    ncpu = os.cpu_count() or 1
    started = datetime.datetime.now()
    res = {'mode': a.mode, 'started': started.isoformat(timespec='seconds'), 'host_cpus': ncpu,
           'loadavg_start': loadavg(), 'config': cfg, 'workdir': work}
    try:
        res['git'] = subprocess.run(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'], stdout=subprocess.PIPE,
                                    text=True).stdout.strip()
        dirty = subprocess.run(['git', '-C', REPO, 'status', '--porcelain', '--untracked-files=no', 'src', 'daemon',
                                'proto'], stdout=subprocess.PIPE, text=True).stdout.strip()
        if dirty:
            res['git'] += '+dirty'  # the build had uncommitted changes to the engine
    except OSError:
        pass

    # The pack is copied once: every figure of this run sees the same rules,
    # even if someone edits rules/ meanwhile.
    a.rules_snapshot = os.path.join(work, 'rules')
    shutil.rmtree(a.rules_snapshot, ignore_errors=True)
    shutil.copytree(a.rules, a.rules_snapshot)
    env = dict(os.environ, COMPLAINTD_CACHE=cache)

    # ---- corpus
    corpus = os.path.join(work, 'corpus.pb')
    jsonl = os.path.join(work, 'corpus.jsonl')
    log(f"generating {cfg['corpus']} events over {cfg['customers']} customers (Zipf 1.1)")
    for fmt, path in (('pb', corpus), ('jsonl', jsonl)):
        n = cfg['corpus'] if fmt == 'pb' else cfg['classify_events']
        subprocess.run([tools['gen_stream'], '--events', str(n), '--customers', str(cfg['customers']),
                        '--seed', '7', '--format', fmt, '--out', path], check=True)
    parts = []
    with open(jsonl) as f:
        lines = f.readlines()
    for k in range(ncpu):
        parts.append(os.path.join(work, f'corpus.part{k}.jsonl'))
        with open(parts[-1], 'w') as g:
            g.writelines(lines[k::ncpu])

    # ---- compile time (without the cache), then fill the cache
    if cfg['compile_nocache']:
        tmpc = tempfile.mkdtemp(prefix='nocache-', dir=work)
        log('compiling the pack without a cache (20-40 s)')
        t, p = time_cmd([tools['complaintctl'], 'rules', 'check', a.rules_snapshot],
                        env=dict(os.environ, COMPLAINTD_CACHE=tmpc))
        m = re.search(r'compiled in (\d+) ms', p.stdout)
        res['compile_without_cache'] = {'wall_s': t, 'compile_ms': int(m.group(1)) if m else None}
        shutil.rmtree(tmpc, ignore_errors=True)
    patterns = os.path.join(work, 'patterns.tsv')
    subprocess.run([tools['complaintctl'], 'rules', 'export', a.rules_snapshot, patterns], check=True, env=env)
    peers_dir = os.path.join(work, 'peers')
    os.makedirs(peers_dir, exist_ok=True)
    res['peer_patterns'] = run_json(['/usr/bin/python3', os.path.join(REPO, 'bench', 'peer_patterns.py'),
                                     patterns, peers_dir])

    # ---- stores prefilled with many customers (the repeats below run the daemon on each)
    stores = []
    if cfg.get('stores') and tools.get('prefill'):
        stores, store_corpus, store_conf = prefill_stores(tools, cfg, work, corpus)

    # ---- repeated measurements, interleaved so that noise spreads over all
    runs = {k: [] for k in ('zmq', 'scan', 'e2e_full', 'e2e_half', 'startup', 'classify_1', 'classify_all',
                            'history', 'rss', 'nodurable_full', 'nodurable_half', 'fsync', 'echo', 'echo_durable',
                            'e2e_full_rules', 'model', 'model_corpus')}
    # The learned layer's cost (issue 15): the daemon above runs with the default model; a
    # rules-only daemon (model = none) in the same repeat gives the end-to-end ratio, and
    # bench_model the in-process one, on the bench's stream and on the labelled corpus.
    rules_only_conf = os.path.join(work, 'rules-only.conf')
    with open(rules_only_conf, 'w') as f:
        f.write('model = none\n')
    model_file = os.path.join(REPO, 'models', 'default.model')
    shared_corpus = sorted(glob.glob(os.path.join(REPO, '..', 'shared', 'corpus', '*.jsonl')) +
                           glob.glob(os.path.join(REPO, '..', 'shared', 'corpus', 'train', '*.jsonl')))
    canon = os.path.join(work, 'canonical.txt')
    for r in range(cfg['repeats']):
        log(f"repeat {r + 1}/{cfg['repeats']}: transport limit")
        runs['zmq'].append(run_json([tools['zmq_limit'], '--corpus', corpus, '--events', str(cfg['zmq_events']),
                                     '--endpoint', f'tcp://127.0.0.1:{a.port + 10}']))
        log(f"repeat {r + 1}: scan limit")
        cmd = [tools['scan_limit'], '--corpus', corpus, '--rules', a.rules_snapshot, '--cache', cache,
               '--texts', str(min(cfg['corpus'], 50000)), '--seconds', str(cfg['scan_secs']), '--literal']
        if r == 0:
            cmd += ['--dump-canonical', canon]
            if cfg['nosom']:
                cmd += ['--nosom']
        runs['scan'].append(run_json(cmd, env=env))
        log(f"repeat {r + 1}: daemon end to end at full load")
        d = Daemon(a, tools, work, a.port, cache, f'r{r}')
        runs['startup'].append(d.ready_ms)
        full = loadgen(tools, d, corpus, cfg['full_events'], run_id=10 + r)
        runs['e2e_full'].append(full)
        rate = full['events_per_s'] * 0.5
        log(f"repeat {r + 1}: full {full['events_per_s']:.0f} ev/s; half load {rate:.0f} ev/s for {cfg['half_secs']} s")
        half = loadgen_staged(tools, d, corpus, max(int(rate * cfg['half_secs']), 1000), run_id=20 + r,
                              rate=rate, skip=int(rate * 0.5))
        runs['e2e_half'].append(half)
        st = d.stats(tools)
        d.stop()
        h = d.history_bytes()
        h['distinct_customers'] = max(full['distinct_customers'], half['distinct_customers'])
        h['stats'] = st
        h['write_bytes'] = d.io_at_stop.get('write_bytes')
        h['write_syscalls'] = d.io_at_stop.get('syscw')
        runs['history'].append(h)
        runs['rss'].append(d.rss)
        shutil.rmtree(d.data, ignore_errors=True)
        log(f"repeat {r + 1}: the same daemon with the rules alone (model = none), full load")
        d = Daemon(a, tools, work, a.port, cache, f'ro{r}', extra=['--config', rules_only_conf])
        runs['e2e_full_rules'].append(loadgen(tools, d, corpus, cfg['full_events'], run_id=80 + r))
        d.stop()
        shutil.rmtree(d.data, ignore_errors=True)
        log(f"repeat {r + 1}: the same without fsync (--no-durable), to separate the disk from the rest")
        d = Daemon(a, tools, work, a.port, cache, f'nd{r}', extra=['--no-durable'])
        # the long run's point is the durable daemon; 1M events are enough to compare without fsync
        runs['nodurable_full'].append(loadgen(tools, d, corpus, min(cfg['full_events'], 1000000), run_id=30 + r))
        runs['nodurable_half'].append(loadgen_staged(tools, d, corpus, max(int(rate * cfg['half_secs']), 1000),
                                                     run_id=50 + r, rate=rate, skip=int(rate * 0.5)))
        d.stop()
        shutil.rmtree(d.data, ignore_errors=True)
        if tools.get('echo_limit'):
            log(f"repeat {r + 1}: the floor: a relay that does no work, plain and with a flushed append per group")
            half_events = max(int(rate * cfg['half_secs']), 1000)
            for key, durable, run_id in (('echo', False, 60), ('echo_durable', True, 70)):
                runs[key].append(echo_floor(tools, work, a.port + 20, corpus, min(cfg['full_events'], 1000000),
                                            rate, half_events, run_id + 2 * r, durable))
        # Every store gets the same events in every repeat; they are reused from repeat to repeat
        # (a fresh copy would leave gigabytes of dirty pages flushing under the next run), so each
        # one grows alike, and the order alternates so that neither is always the first.
        for store in (stores if r % 2 == 0 else stores[::-1]):
            log(f"repeat {r + 1}: daemon on the store of {store['customers']:,} customers, full load")
            x = store_run(a, tools, work, cache, store, store_corpus, store_conf, cfg['store_events'],
                          run_id=100 + 10 * stores.index(store) + r)
            store['runs'].append(x)
            log(f"  {x['events_per_s']:.0f} ev/s")
        runs['fsync'].append(fsync_probe(work))
        log(f"repeat {r + 1}: complaintctl classify")
        runs['classify_1'].append(classify_throughput(tools, [jsonl], cache, a.rules_snapshot))
        runs['classify_all'].append(classify_throughput(tools, parts, cache, a.rules_snapshot))
        if tools.get('bench_model'):
            log(f"repeat {r + 1}: classification with the model against the rules alone (bench_model)")
            benv = dict(os.environ, BENCH_CACHE=cache)
            runs['model'].append(run_json([tools['bench_model'], a.rules_snapshot, model_file, jsonl,
                                           '--rounds', str(cfg['model_rounds']), '--json'], env=benv))
            if shared_corpus:
                runs['model_corpus'].append(run_json([tools['bench_model'], a.rules_snapshot, model_file]
                                                     + shared_corpus
                                                     + ['--rounds', str(cfg['model_rounds']), '--json'], env=benv))
    res['runs'] = runs
    for store in stores:
        # every event hit a prefilled history: no customer was added
        h = store_stat(store['dir'])
        store['customers_after'] = (h.get('customers') or {}).get('entries')
        store['data_mdb_bytes_after'] = h['data_mdb_bytes']
        if store['customers_after'] is not None and store['customers_after'] != store['customers']:
            log(f"warning: the store of {store['customers']} customers now holds {store['customers_after']}")
        shutil.rmtree(store['dir'], ignore_errors=True)
        del store['dir']
    res['stores'] = stores

    # ---- latency against throughput: a sweep of fixed rates on one daemon
    full_med = med([x['events_per_s'] for x in runs['e2e_full']])
    curve = [{'fraction': 1.0, 'events_per_s': full_med,
              'p50_us': med([x['latency_us']['p50'] for x in runs['e2e_full']]),
              'p99_us': med([x['latency_us']['p99'] for x in runs['e2e_full']]),
              'p999_us': med([x['latency_us']['p999'] for x in runs['e2e_full']])},
             {'fraction': 0.5, 'events_per_s': med([x['events_per_s'] for x in runs['e2e_half']]),
              'p50_us': med([x['latency_us']['p50'] for x in runs['e2e_half']]),
              'p99_us': med([x['latency_us']['p99'] for x in runs['e2e_half']]),
              'p999_us': med([x['latency_us']['p999'] for x in runs['e2e_half']])}]
    if cfg['sweep']:
        d = Daemon(a, tools, work, a.port, cache, 'sweep')
        for i, frac in enumerate(cfg['sweep']):
            rate = full_med * frac
            log(f'sweep: {frac:.2f} of full load = {rate:.0f} ev/s')
            x = loadgen(tools, d, corpus, max(int(rate * cfg['half_secs']), 1000), run_id=40 + i, rate=rate,
                        skip=int(rate * 0.5))
            curve.append({'fraction': frac, 'events_per_s': x['events_per_s'], 'p50_us': x['latency_us']['p50'],
                          'p99_us': x['latency_us']['p99'], 'p999_us': x['latency_us']['p999']})
        d.stop()
        shutil.rmtree(d.data, ignore_errors=True)
    res['latency_curve'] = sorted(curve, key=lambda c: c['fraction'])

    # ---- peers
    log('peers: ripgrep, grep, PCRE2-JIT, Python')
    peer_canon = os.path.join(work, 'canonical.peers.txt')
    with open(canon) as f, open(peer_canon, 'w') as g:
        for i, line in enumerate(f):
            if i >= cfg['peer_texts']:
                break
            g.write(line)
    n_peer = min(cfg['peer_texts'], sum(1 for _ in open(canon)))
    peers = {}
    if shutil.which('rg'):
        peers['ripgrep'] = [grep_peer(['rg', '-c', '-f', os.path.join(peers_dir, 'rg.txt')], peer_canon, n_peer)
                            for _ in range(cfg['repeats'])]
    cenv = dict(os.environ, LC_ALL='C')
    peers['grep'] = [grep_peer(['grep', '-E', '-c', '-f', os.path.join(peers_dir, 'grep.txt')], peer_canon,
                               n_peer, env=cenv) for _ in range(cfg['repeats'])]
    if tools.get('pcre2_classify'):
        peers['pcre2_jit'] = [run_json([tools['pcre2_classify'], patterns, peer_canon, str(cfg['scan_secs'] * 2)])
                              for _ in range(cfg['repeats'])]
    pb2 = os.path.join(work, 'pb2')
    os.makedirs(pb2, exist_ok=True)
    subprocess.run(['protoc', '--python_out=' + pb2, '-I', os.path.join(REPO, 'proto'),
                    os.path.join(REPO, 'proto', 'complaint.proto')], check=True)
    py = []
    for r in range(cfg['repeats']):
        port = a.port + 20
        p = subprocess.Popen(['/usr/bin/python3', os.path.join(REPO, 'bench', 'py_consumer.py'), '--patterns',
                              os.path.join(peers_dir, 'rg.txt'), '--ids', patterns, '--pb2', pb2,
                              '--ingest', f'tcp://127.0.0.1:{port}', '--publish', f'tcp://127.0.0.1:{port + 1}',
                              '--events', str(cfg['py_events'])], stderr=subprocess.PIPE, text=True)
        p.stderr.readline()  # "ready"
        x = subprocess.run([tools['loadgen'], '--corpus', corpus, '--ingest', f'tcp://127.0.0.1:{port}',
                            '--publish', f'tcp://127.0.0.1:{port + 1}', '--events', str(cfg['py_events']),
                            '--run-id', str(60 + r), '--quiet'], stdout=subprocess.PIPE, text=True)
        py.append(json.loads(x.stdout.strip().splitlines()[-1]))
        p.wait(timeout=60)
    peers['python_pyzmq_re'] = py
    res['peers'] = peers
    res['loadavg_end'] = loadavg()
    res['finished'] = datetime.datetime.now().isoformat(timespec='seconds')

    summary = summarise(res, cfg)
    res['summary'] = summary
    os.makedirs(a.out, exist_ok=True)
    stamp = started.strftime('%Y-%m-%d-%H%M%S')
    out_json = os.path.join(a.out, f'{stamp}-{a.mode}.json')
    with open(out_json, 'w') as f:
        json.dump(res, f, indent=1)
    table = render(summary, res)
    print(table)
    png = os.path.join(a.out, 'latency.png' if a.mode == 'default' else f'latency-{a.mode}.png')
    if plot(res['latency_curve'], summary, png, work):
        print(f'plot: {os.path.relpath(png, REPO)}')
    print(f'json: {os.path.relpath(out_json, REPO)}')


def summarise(res, cfg):
    r = res['runs']
    s = {}
    s['zmq_events_per_s'] = med([x['events_per_s'] for x in r['zmq']])
    s['scan_1t'] = med([x['scan_1t']['texts_per_s'] for x in r['scan']])
    s['scan_mb_per_s'] = med([x['scan_1t']['mb_per_s'] for x in r['scan']])
    s['scan_mt'] = med([x['scan_mt']['texts_per_s'] for x in r['scan']])
    s['classify_lib_1t'] = med([x['classify_1t']['texts_per_s'] for x in r['scan']])
    s['classify_lib_mt'] = med([x['classify_mt']['texts_per_s'] for x in r['scan']])
    s['normalise_1t'] = med([x['normalise_1t']['texts_per_s'] for x in r['scan']])
    s['scan_literal_1t'] = med([x['scan_literal_1t']['texts_per_s'] for x in r['scan']])
    s['scan_literal_som_1t'] = med([x['scan_literal_som_1t']['texts_per_s'] for x in r['scan']])
    s['db_bytes'] = r['scan'][0]['db_bytes']
    s['literal_db_bytes'] = r['scan'][0]['scan_literal_1t']['db_bytes']
    if 'scan_nosom_1t' in r['scan'][0]:
        s['scan_nosom_1t'] = r['scan'][0]['scan_nosom_1t']['texts_per_s']
        s['nosom_db_bytes'] = r['scan'][0]['scan_nosom_1t']['db_bytes']
    s['pack_load_ms'] = med([x['pack_load_ms'] for x in r['scan']])
    s['e2e_full'] = med([x['events_per_s'] for x in r['e2e_full']])
    for k in ('p50', 'p99', 'p999'):
        s[f'e2e_full_{k}_us'] = med([x['latency_us'][k] for x in r['e2e_full']])
        s[f'e2e_half_{k}_us'] = med([x['latency_us'][k] for x in r['e2e_half']])
    s['e2e_half'] = med([x['events_per_s'] for x in r['e2e_half']])
    for run in ('e2e_half', 'nodurable_half'):
        for stage in STAGES:
            for k in ('p50_us', 'p99_us'):
                xs = [x['stages'][stage][k] for x in r[run]
                      if x.get('stages', {}).get(stage, {}).get(k) is not None]
                s[f'{run}_{stage}_{k}'] = med(xs) if xs else None
    s['startup_ms'] = med(r['startup'])
    s['nodurable_full'] = med([x['events_per_s'] for x in r['nodurable_full']])
    for k in ('p50', 'p99', 'p999'):
        s[f'nodurable_half_{k}_us'] = med([x['latency_us'][k] for x in r['nodurable_half']])
    for key in ('echo', 'echo_durable'):
        if r.get(key):
            s[f'{key}_full'] = med([x['full']['events_per_s'] for x in r[key]])
            for k in ('p50', 'p99', 'p999'):
                s[f'{key}_half_{k}_us'] = med([x['half']['latency_us'][k] for x in r[key]])
    s['fsync_p50_ms'] = med([x['p50_ms'] for x in r['fsync']])
    s['fsync_p99_ms'] = med([x['p99_ms'] for x in r['fsync']])
    s['compile_ms'] = (res.get('compile_without_cache') or {}).get('compile_ms')
    s['classify_ctl_1'] = med([x['events_per_s_net'] for x in r['classify_1']])
    s['classify_ctl_all'] = med([x['events_per_s_net'] for x in r['classify_all']])
    s['history_bytes_per_customer'] = med([x.get('customer_bytes_per_customer') for x in r['history']])
    s['data_mdb_bytes_per_customer'] = med([x['data_mdb_bytes'] / max(x['distinct_customers'], 1)
                                            for x in r['history']])
    commits = [x['stats'] for x in r['history'] if x.get('stats') and x['stats'].get('commits')]
    s['commit_ms'] = med([st['commit_us_total'] / st['commits'] / 1000 for st in commits])
    s['events_per_commit'] = med([st['decided'] / st['commits'] for st in commits])
    s['write_bytes_per_event'] = med([x['write_bytes'] / x['stats']['decided'] for x in r['history']
                                      if x.get('write_bytes') and x.get('stats') and x['stats'].get('decided')])
    s['scan_per_text_p99_us'] = med([x['scan_per_text_us']['p99'] for x in r['scan']])
    s['scan_per_text_p50_us'] = med([x['scan_per_text_us']['p50'] for x in r['scan']])
    rss = [x[1] for series in r['rss'] for x in series]
    s['rss_max_kb'] = max(rss) if rss else None
    s['rss_file_max_kb'] = max((x[3] for series in r['rss'] for x in series), default=None)
    series = max(r['rss'], key=len) if r['rss'] else []
    if len(series) >= 6:
        # heap (RssAnon): the LMDB map's pages (RssFile) grow with the data by design
        k = len(series) // 3
        s['rss_anon_middle_third_kb'] = statistics.mean(x[2] for x in series[k:2 * k])
        s['rss_anon_last_third_kb'] = statistics.mean(x[2] for x in series[2 * k:])
        s['rss_series_seconds'] = series[-1][0]
    p = res['peers']
    if 'ripgrep' in p:
        s['ripgrep'] = med([x.get('texts_per_s_net') for x in p['ripgrep']])
    s['grep'] = med([x.get('texts_per_s_net') for x in p['grep']])
    if 'pcre2_jit' in p:
        s['pcre2_jit'] = med([x['texts_per_s'] for x in p['pcre2_jit']])
    s['python'] = med([x['events_per_s'] for x in p['python_pyzmq_re']])
    st = res.get('stores') or []
    if len(st) >= 2 and all(x['runs'] for x in st):
        small, large = st[0], st[-1]
        s['store_small'], s['store_large'] = small['customers'], large['customers']
        for tag, x in (('small', small), ('large', large)):
            s[f'store_{tag}_eps'] = med([y['events_per_s'] for y in x['runs']])
            done = [y['stats'] for y in x['runs'] if y.get('stats') and y['stats'].get('commits')]
            s[f'store_{tag}_commit_ms'] = med([c['commit_us_total'] / c['commits'] / 1000 for c in done])
            s[f'store_{tag}_write_bytes_per_event'] = med([y['write_bytes'] / y['stats']['decided'] for y in x['runs']
                                                           if y.get('write_bytes') and y.get('stats')
                                                           and y['stats'].get('decided')])
            s[f'store_{tag}_prefill_s'] = x['prefill']['seconds']
            s[f'store_{tag}_mdb_bytes'] = x['prefill']['data_mdb_bytes']
        # the repeats ran the two stores back to back: the ratio of each pair, then their median
        s['ratio_store_large_over_small'] = med([y['events_per_s'] / x['events_per_s']
                                                 for x, y in zip(small['runs'], large['runs'])])
    if r.get('e2e_full_rules'):
        s['e2e_full_rules'] = med([x['events_per_s'] for x in r['e2e_full_rules']])
        # each repeat ran both daemons back to back: the ratio of each pair, then their median
        s['ratio_e2e_model_over_rules'] = med([x['events_per_s'] / y['events_per_s']
                                               for x, y in zip(r['e2e_full'], r['e2e_full_rules'])])
    for key in ('model', 'model_corpus'):
        if r.get(key):
            s[f'{key}_rules_eps'] = med([x['rules_events_per_s'] for x in r[key]])
            s[f'{key}_eps'] = med([x['model_events_per_s'] for x in r[key]])
            s[f'{key}_features_eps'] = med([x['features_events_per_s'] for x in r[key]])
            s[f'ratio_{key}_over_rules'] = med([x['ratio_model_over_rules'] for x in r[key]])
            s[f'{key}_texts'] = r[key][0]['texts']
    # ratios against the targets
    s['ratio_e2e_over_zmq'] = s['e2e_full'] / s['zmq_events_per_s']
    s['ratio_classify_over_scan'] = s['classify_lib_1t'] / s['scan_1t']
    s['ratio_literal_over_default'] = s['scan_literal_1t'] / s['scan_1t']
    return s


def count_name(n):
    """100000 -> '100k', 10000000 -> '10M'."""
    for div, suffix in ((1000000, 'M'), (1000, 'k')):
        if n >= div and n % div == 0:
            return f'{n // div}{suffix}'
    return f'{n:,}'


def fmt(x, unit=''):
    if x is None:
        return '-'
    if isinstance(x, float) and x < 10:
        return f'{x:.2f}{unit}'
    return f'{x:,.0f}{unit}'


def stages_ms(s, run, k):
    """'labelled / committed / published' of a run's per-stage quantile k, in ms (bucket bounds)."""
    return ' / '.join(fmt(None if s.get(f'{run}_{st}_{k}') is None else s[f'{run}_{st}_{k}'] / 1000)
                      for st in STAGES)


def pct_ms(s, run):
    """'p50 / p99 / p99.9' of a loadgen run's latencies in ms."""
    return ' / '.join(fmt(s[f'{run}_{p}_us'] / 1000) for p in ('p50', 'p99', 'p999'))


def render(s, res):
    rows = [
        ('transport limit: bare ZeroMQ PUSH->PULL, tcp loopback', fmt(s['zmq_events_per_s']), 'msg/s', ''),
        ('scan limit: raw hs_scan, default pack, 1 core', fmt(s['scan_1t']), 'texts/s',
         f"{s['scan_mb_per_s']:.1f} MB/s canonical"),
        ('  same, all cores', fmt(s['scan_mt']), 'texts/s', ''),
        ('  same-size pack of plain literals, 1 core', fmt(s['scan_literal_1t']), 'texts/s',
         f"{s['ratio_literal_over_default']:.0f}x the default pack"),
        ('  the same pack with gap phrases whole (before chain.c), 1 core', fmt(s.get('scan_nosom_1t')), 'texts/s',
         (f"{s['scan_nosom_1t'] / s['scan_1t']:.1f}x the default pack" if s.get('nosom_db_bytes') != s['db_bytes']
          else 'the pack is already compiled without SOM: same database, the gap is noise')
         if s.get('scan_nosom_1t') else ''),
        ('  one text alone, p50 / p99', f"{fmt(s['scan_per_text_p50_us'])} / {fmt(s['scan_per_text_p99_us'])}",
         'us', 'raw hs_scan'),
        ('  normalise alone, 1 core', fmt(s['normalise_1t']), 'texts/s', ''),
        ('classify_text in-process (library), 1 core', fmt(s['classify_lib_1t']), 'texts/s',
         f"{s['ratio_classify_over_scan']:.2f}x scan limit"),
        ('  same, all cores', fmt(s['classify_lib_mt']), 'texts/s', ''),
        ('complaintctl classify, 1 process (JSON in/out)', fmt(s['classify_ctl_1']), 'events/s', 'net of start-up'),
        (f"complaintctl classify, {res['host_cpus']} processes", fmt(s['classify_ctl_all']), 'events/s',
         'net of start-up'),
    ]
    for key, what in (('model', 'the stream'), ('model_corpus', 'the labelled corpus')):
        if f'{key}_eps' in s:
            rows += [(f"classify_text + model, 1 core, on {what} ({s[f'{key}_texts']:,} texts)", fmt(s[f'{key}_eps']),
                      'texts/s', f"{s[f'ratio_{key}_over_rules']:.2f}x rules alone "
                                 f"({fmt(s[f'{key}_rules_eps'])}/s; bench_model, CPU time)"),
                     ('  rules + feature extraction only', fmt(s[f'{key}_features_eps']), 'texts/s',
                      'the rest is table probes and explanations')]
    rows += [
        ('daemon end to end, full load (durable)', fmt(s['e2e_full']), 'events/s',
         f"{s['ratio_e2e_over_zmq']:.3f}x transport"),
    ]
    if 'e2e_full_rules' in s:
        rows += [('  same daemon, rules alone (model = none)', fmt(s['e2e_full_rules']), 'events/s',
                  f"with the model: {s['ratio_e2e_model_over_rules']:.2f}x (median of paired repeats)")]
    rows += [
        ('  latency at full load p50 / p99 / p99.9',
         pct_ms(s, 'e2e_full'), 'ms', 'queueing: the sender outruns it'),
        ('daemon at half load', fmt(s['e2e_half']), 'events/s', ''),
        ('  latency at half load p50 / p99 / p99.9',
         pct_ms(s, 'e2e_half'), 'ms', 'target p99 < 2 ms'),
        ('  p99 by stage: labelled / committed / published', stages_ms(s, 'e2e_half', 'p99_us'), 'ms',
         'at most (buckets of 2^n us)'),
        ('  durable group commit, mean time / events per commit', f"{fmt(s['commit_ms'])} / "
         f"{fmt(s['events_per_commit'])}", 'ms / ev', 'daemon stats, whole run'),
        ('  bytes written by the daemon per event (/proc/PID/io)', fmt(s['write_bytes_per_event']), 'B',
         'LMDB pages rewritten per group commit'),
        ('  disk: fdatasync of a 4 KB append, p50 / p99', f"{fmt(s['fsync_p50_ms'])} / {fmt(s['fsync_p99_ms'])}",
         'ms', 'the floor under a durable commit'),
        ('daemon --no-durable, full load', fmt(s['nodurable_full']), 'events/s',
         f"{s['nodurable_full'] / s['zmq_events_per_s']:.3f}x transport"),
        ('  latency at the same half load, p50 / p99 / p99.9',
         pct_ms(s, 'nodurable_half'), 'ms', 'no fsync'),
        ('  p99 by stage: labelled / committed / published', stages_ms(s, 'nodurable_half', 'p99_us'), 'ms',
         'at most (buckets of 2^n us)'),
    ]
    if 'echo_full' in s:
        rows += [
            ('floor: a relay that does no work (bench/echo_limit), full load', fmt(s['echo_full']), 'events/s',
             f"{s['echo_full'] / s['zmq_events_per_s']:.3f}x transport"),
            ('  latency at the same half load, p50 / p99 / p99.9', pct_ms(s, 'echo_half'), 'ms',
             'no fsync'),
            ('  the same relay, durable: one flushed append per group, full load', fmt(s['echo_durable_full']),
             'events/s', f"{s['echo_durable_full'] / s['zmq_events_per_s']:.3f}x transport"),
            ('  latency at the same half load, p50 / p99 / p99.9', pct_ms(s, 'echo_durable_half'), 'ms',
             'the floor under a durable p99'),
        ]
    if 'ratio_store_large_over_small' in s:
        sm, lg = count_name(s['store_small']), count_name(s['store_large'])
        rows += [
            (f'daemon on a store prefilled with {sm} customers, full load', fmt(s['store_small_eps']), 'events/s',
             f'corpus over those {sm} ids (durable)'),
            (f'daemon on a store prefilled with {lg} customers, full load', fmt(s['store_large_eps']), 'events/s',
             f"{s['ratio_store_large_over_small']:.2f}x the {sm} store (median of paired repeats)"),
            (f'  group commit mean time, {sm} / {lg} store',
             f"{fmt(s['store_small_commit_ms'])} / {fmt(s['store_large_commit_ms'])}", 'ms', ''),
            (f'  bytes written per event, {sm} / {lg} store',
             f"{fmt(s['store_small_write_bytes_per_event'])} / {fmt(s['store_large_write_bytes_per_event'])}", 'B',
             ''),
            (f'  prefill of {lg} customers: time / data.mdb',
             f"{s['store_large_prefill_s']:.0f} s / {fmt(s['store_large_mdb_bytes'] / 1e6)}", 'MB',
             'bench/prefill.c'),
        ]
    rows += [
        ('start-up to ready, rule cache present', fmt(s['startup_ms']), 'ms', 'target < 100 ms'),
        ('  pack load from cache (scan_limit)', fmt(s['pack_load_ms']), 'ms',
         f"database {s['db_bytes'] / 1e6:.1f} MB"),
        ('  compile without cache', fmt(s['compile_ms']), 'ms', ''),
        ('history: customers sub-db bytes per customer', fmt(s['history_bytes_per_customer']), 'B',
         'target <= 256'),
        ('  whole data.mdb per customer (with decision log, event ids)', fmt(s['data_mdb_bytes_per_customer']), 'B',
         ''),
        ('RSS max (VmRSS, incl. LMDB map pages) / of it file-backed', f"{fmt(s['rss_max_kb'] / 1024)} / "
         f"{fmt((s.get('rss_file_max_kb') or 0) / 1024)}", 'MB', ''),
        ('  heap (RssAnon) mean over middle / last third of the longest run',
         f"{fmt((s.get('rss_anon_middle_third_kb') or 0) / 1024)} / "
         f"{fmt((s.get('rss_anon_last_third_kb') or 0) / 1024)}", 'MB', f"run of {s.get('rss_series_seconds', 0):.0f} s"),
        ('peer: ripgrep -f (line filter)', fmt(s.get('ripgrep')), 'texts/s', 'net of pattern compile'),
        ('peer: GNU grep -E -f, C locale (line filter)', fmt(s.get('grep')), 'texts/s', 'net of pattern compile'),
        ('peer: PCRE2-JIT, pattern by pattern, 1 core', fmt(s.get('pcre2_jit')), 'texts/s', ''),
        ('peer: Python pyzmq + re consumer, end to end', fmt(s.get('python')), 'events/s', 'no durability'),
    ]
    w = max(len(r[0]) for r in rows)
    lines = [f"complaintd benchmark, mode {res['mode']}, {res['started']}, git {res.get('git', '?')}, "
             f"{res['host_cpus']} CPUs, load average {res['loadavg_start']:.2f} -> {res['loadavg_end']:.2f}",
             f"medians of {res['config']['repeats']} runs; corpus {res['config']['corpus']} events, "
             f"{res['runs']['e2e_full'][0]['mean_msg_bytes']:.0f} B per message", '']
    lines += [f'{name:<{w}}  {val:>20} {unit:<8} {note}' for name, val, unit, note in rows]
    t = s
    lines += ['', 'targets:',
              f"  end to end >= 0.5x transport ........ {t['ratio_e2e_over_zmq']:.3f}x  "
              f"{'MET' if t['ratio_e2e_over_zmq'] >= 0.5 else 'NOT MET'}"
              + (f"  (a relay doing no work: {t['echo_full'] / t['zmq_events_per_s']:.3f}x)"
                 if 'echo_full' in t else ''),
              f"  p99 at half load < 2 ms ............. {t['e2e_half_p99_us'] / 1000:.2f} ms  "
              f"{'MET' if t['e2e_half_p99_us'] < 2000 else 'NOT MET'}"
              + (f"  (a durable relay doing no work: {t['echo_durable_half_p99_us'] / 1000:.2f} ms)"
                 if 'echo_durable_half_p99_us' in t else ''),
              f"  classify >= 0.8x scan limit / core .. {t['ratio_classify_over_scan']:.2f}x  "
              f"{'MET' if t['ratio_classify_over_scan'] >= 0.8 else 'NOT MET'}",
              ] + [f"  {label:.<37} {t[key]:.2f}x  {'MET' if t[key] >= goal else 'NOT MET'}"
                   for label, key, goal in (
                       ('classify with model >= 0.5x rules ', 'ratio_model_over_rules', 0.5),
                       ('  same, on the labelled corpus ', 'ratio_model_corpus_over_rules', 0.5),
                       ('e2e with model >= 0.8x rules alone ', 'ratio_e2e_model_over_rules', 0.8))
                   if key in t] + [
              f"  history <= 256 B per customer ....... {fmt(t['history_bytes_per_customer'])} B  "
              f"{'MET' if (t['history_bytes_per_customer'] or 1e9) <= 256 else 'NOT MET'}",
              f"  start-up < 100 ms with cache ........ {fmt(t['startup_ms'])} ms  "
              f"{'MET' if t['startup_ms'] < 100 else 'NOT MET'}"]
    if 'ratio_store_large_over_small' in t:
        label = f"{count_name(t['store_large'])} customers >= 0.8x {count_name(t['store_small'])} "
        ratio = t['ratio_store_large_over_small']
        verdict = ('MET' if ratio >= 0.8 else 'NOT MET') if t['store_large'] >= STORE_TARGET_CUSTOMERS else \
            f"(the target is for {count_name(STORE_TARGET_CUSTOMERS)}: the default run or --long)"
        lines.append(f"  {label:.<37} {ratio:.2f}x  {verdict}")
    if t.get('rss_anon_last_third_kb'):
        growth = t['rss_anon_last_third_kb'] / t['rss_anon_middle_third_kb'] - 1
        if res['mode'] == 'long':
            verdict = (f"{'MET' if growth * 100 <= HEAP_FLAT_PCT else 'NOT MET'} "
                       f"(within +{HEAP_FLAT_PCT}%, over {t['rss_series_seconds']:.0f} s)")
        else:
            verdict = f"(over {t['rss_series_seconds']:.0f} s; --long for a real answer)"
        lines.append(f"  flat heap (last vs middle third) .... {growth * 100:+.1f}%  {verdict}")
    return '\n'.join(lines)


def plot(curve, s, png, work):
    if not shutil.which('gnuplot'):
        log('gnuplot not found: no plot')
        return False
    dat = os.path.join(work, 'latency.dat')
    with open(dat, 'w') as f:
        for c in curve:
            if c['events_per_s']:
                f.write(f"{c['events_per_s']:.0f} {c['p50_us'] / 1000:.3f} {c['p99_us'] / 1000:.3f} "
                        f"{c['p999_us'] / 1000:.3f}\n")
    script = f"""
set terminal pngcairo size 900,560 font ",10"
set output '{png}'
set title "complaintd end to end: decision latency against throughput (durable commits)"
set xlabel "events/s decided"
set ylabel "event-to-decision latency (ms)"
set logscale y
set yrange [1:*]
set grid
set key top left
set arrow from graph 0, first 2 to graph 1, first 2 nohead dt 2 lc rgb "red"
set label "p99 target 2 ms" at graph 0.02, first 2.4 tc rgb "red"
plot '{dat}' using 1:2 with linespoints title "p50", \\
     '{dat}' using 1:3 with linespoints title "p99", \\
     '{dat}' using 1:4 with linespoints title "p99.9"
"""
    p = subprocess.run(['gnuplot'], input=script, text=True, stderr=subprocess.PIPE)
    if p.returncode != 0:
        log('gnuplot failed: ' + p.stderr[:300])
        return False
    return True


if __name__ == '__main__':
    main()
