#!/usr/bin/env python3
"""What publish.lua costs Redis per event, alone: no node, no load tool, just the script and its channel traffic.

Starts redis-server on one core (append-only, fsync every second, as docs/CLUSTER.md recommends), loads this
tree's server/src/main/resources/cluster/publish.lua, and pipelines group commits of events to users at it from
another core, with one subscriber following every user's channel (so each SPUBLISH is delivered, as to a node).
Reports Redis's CPU per event (user and total, from /proc), its own per-command counters (INFO commandstats), the
append-only rewrites started while measuring and the memory it holds.
The arguments follow PublishEntries' layout for an event to a user (op u00, or u10 with an id) and to a room (op r00
or r10, the room's tag): keep them in step. With --room, "per event" is per room event (each numbered for every
member) and the figures per delivery (per member numbered) are printed beside.

  benchmarks/script-cost.py                      # groups of 100 events, 1,000 users, 300,000 events measured
  benchmarks/script-cost.py --group 10 --ids     # smaller groups (lower load), events with ids (a dedup key each)
  benchmarks/script-cost.py --no-aof             # without persistence: what the script and the channel cost alone
  benchmarks/script-cost.py --lifecycle --ids    # what agents send: agent_thinking in a started run, with ids
  benchmarks/script-cost.py --room 10            # events to rooms of 10 (users/10 rooms): numbered per member
  benchmarks/script-cost.py --redis-arg=--auto-aof-rewrite-percentage --redis-arg=0   # any redis-server setting
  benchmarks/script-cost.py --callgrind --no-aof --users 100 --warmup-events 130000 --events 20000
      # Redis's user-space instructions per event, counted by valgrind's callgrind over the measured window only:
      # repeatable to a fraction of a percent where CPU time on this shared machine varies by a third. Needs valgrind.

Never run in CI. Needs redis-server (Debian's package). Run it interleaved with another checkout's copy to compare.
"""
import argparse, glob, hashlib, os, shutil, socket, struct, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, 'server/src/main/resources/cluster/publish.lua')


def resp(args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port))
        self.buf = b''

    def send(self, data):
        self.sock.sendall(data)

    def _line(self):
        while b'\r\n' not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError('redis closed the connection')
            self.buf += chunk
        i = self.buf.index(b'\r\n')
        line, self.buf = self.buf[:i], self.buf[i + 2:]
        return line

    def read(self):
        line = self._line()
        kind = line[:1]
        if kind in (b'+', b':'):
            return line[1:]
        if kind == b'-':
            raise RuntimeError(line.decode())
        if kind == b'$':
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 20)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind in (b'*', b'>'):
            n = int(line[1:])
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError('unexpected reply: %r' % line)

    def call(self, *args):
        self.send(resp(list(args)))
        return self.read()


def script_source(path):
    # The script as the node sends it: a line '--!include <file>' replaced by that file of the same folder
    # (LuaScript.spliced does the same).
    lines = []
    for line in open(path).read().split('\n'):
        if line.startswith('--!include '):
            lines.append(open(os.path.join(os.path.dirname(path), line[len('--!include '):].strip())).read()[:-1])
        else:
            lines.append(line)
    return '\n'.join(lines)


def load(conn, source):
    # A function library (#!lua name=...) is loaded and called as LuaScript does: its %DIGEST% written in, then
    # FCALL of its one function (named as the library). Answers what group_arguments calls.
    if source.startswith('#!lua name='):
        source = source.replace('%DIGEST%', hashlib.sha1(source.encode()).hexdigest()[:16])
        conn.call('FUNCTION', 'LOAD', 'REPLACE', source)
        return ['FCALL', source[len('#!lua name='):source.index('\n')].strip()]
    return ['EVALSHA', conn.call('SCRIPT', 'LOAD', source).decode()]


def cpu_seconds(pid):
    fields = open('/proc/%d/stat' % pid).read().split(')')[1].split()
    tick = os.sysconf('SC_CLK_TCK')
    # With its reaped children: the append-only file's rewrites run in forked children, for the events written.
    return (int(fields[11]) + int(fields[13])) / tick, sum(int(f) for f in fields[11:15]) / tick


def callgrind_control(*args):
    subprocess.run(['callgrind_control'] + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def callgrind_instructions(data, pid, keep):
    # callgrind_control -d writes callgrind.<pid>.1; its 'totals:' line counts the instructions since -i on.
    for _ in range(100):
        for dump in glob.glob(os.path.join(data, 'callgrind.%d.*' % pid)):
            for line in open(dump):
                if line.startswith('totals:'):
                    if keep:
                        shutil.copyfile(dump, keep)
                    return int(line.split()[1])
        time.sleep(0.1)
    raise RuntimeError('callgrind wrote no dump for pid=%d in %s' % (pid, data))


def info_field(conn, section, name):
    for line in conn.call('INFO', section).decode().split('\r\n'):
        if line.startswith(name + ':'):
            return int(line.split(':', 1)[1])
    raise RuntimeError('INFO %s has no %s' % (section, name))


def group_arguments(call, users, record, ids, serial, verb='', room=0, dedup_ms='60000'):
    # The header: prefix, historyMax, userRetentionMs, dedupWindowMs, runRetentionMs, strict, epochCandidate,
    # maxToolCallsPerRun, probe, requestCount; then one request with its entries (the engine's defaults).
    # With rooms, users are room numbers: entries to the room's tag, numbered by the script for each member.
    tag = 'aw:{r:room-%d}' if room else 'aw:{u:load-%d}'
    kind = 'r' if room else 'u'
    args = call + ['1', tag % users[0],
                   'aw:', '1024', '600000', dedup_ms, '600000', '1', '12345', '64', '0', '1', str(len(users))]
    for i, user in enumerate(users):
        # With a lifecycle verb, the event belongs to the user's run r-1 (the run part is <length>:<runId>).
        args += [kind + ('10' if ids else '00') + verb, tag % user, 'e%d-%d' % (serial, i) if ids else '',
                 '3:r-1' if verb else '0:', '', record]
    return resp(args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--group', type=int, default=100, help='events per script call')
    parser.add_argument('--users', type=int, default=1000)
    parser.add_argument('--events', type=int, default=300_000,
                        help='deliveries measured (after the warm-up): events, or with --room events times members')
    parser.add_argument('--warmup-events', type=int, default=1_200_000,
                        help='deliveries first sent so that every history is past its bound and trims run')
    parser.add_argument('--ids', action='store_true', help='events with ids')
    parser.add_argument('--lifecycle', action='store_true',
                        help='agent_thinking events in a started run, as agents send (default: app.bench, no run)')
    parser.add_argument('--room', type=int, default=0, metavar='N',
                        help='events to rooms of N members (users/N rooms) instead of to users')
    parser.add_argument('--dedup-ms', default='60000',
                        help='the dedup window (the engine\'s 60 s by default): a short one lets ids expire while '
                             'measured')
    parser.add_argument('--port', type=int, default=18795)
    parser.add_argument('--redis-cpu', default='0')
    parser.add_argument('--client-cpu', default='1')
    parser.add_argument('--no-aof', action='store_true', help='appendonly no (default: yes, everysec)')
    parser.add_argument('--redis-arg', action='append', default=[],
                        help='one more redis-server argument (repeat it for a setting and its value)')
    parser.add_argument('--script', default=SCRIPT, help='the script to measure (default: this tree\'s publish.lua)')
    parser.add_argument('--callgrind', action='store_true',
                        help="run Redis under valgrind's callgrind and count its instructions per event")
    parser.add_argument('--callgrind-keep', metavar='FILE',
                        help='with --callgrind: keep the measured window\'s dump there, for callgrind_annotate')
    opts = parser.parse_args()
    if opts.room and opts.lifecycle:
        parser.error('--room with --lifecycle is not measured here (a room\'s run is the room\'s own)')
    rooms = opts.users // opts.room if opts.room else 0
    fanout = opts.room or 1
    os.sched_setaffinity(0, {int(opts.client_cpu)})

    data = tempfile.mkdtemp()
    # Under callgrind, instrumentation starts switched off and is switched on for the measured window only.
    tool = ['valgrind', '--tool=callgrind', '--instr-atstart=no',
            '--callgrind-out-file=' + os.path.join(data, 'callgrind.%p')] if opts.callgrind else []
    server = ['redis-server', '--port', str(opts.port), '--bind', '127.0.0.1', '--dir', data, '--save', '',
              '--appendonly', 'no' if opts.no_aof else 'yes', '--appendfsync', 'everysec',
              '--maxmemory-policy', 'noeviction'] + opts.redis_arg
    redis = subprocess.Popen(['taskset', '-c', opts.redis_cpu] + tool + server, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL if opts.callgrind else None)
    try:
        for _ in range(600 if opts.callgrind else 100):
            try:
                conn = Conn(opts.port)
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit('redis-server did not start')
        call = load(conn, script_source(opts.script))
        pid = info_field(conn, 'server', 'process_id')

        for room in range(rooms):
            members = ['load-%d' % (room * opts.room + m) for m in range(opts.room)]
            conn.call('SADD', 'aw:{r:room-%d}:m' % room, *members)
        follower = Conn(opts.port)
        for user in range(opts.users):
            follower.send(resp(['SSUBSCRIBE', 'aw:{u:load-%d}' % user]))
        for _ in range(opts.users):
            follower.read()
        delivered = [0]

        def follow():
            try:
                while True:
                    chunk = follower.sock.recv(1 << 20)
                    if not chunk:
                        return
                    delivered[0] += chunk.count(b'smessage')
            except OSError:
                return
        threading.Thread(target=follow, daemon=True).start()

        record = (b'\x00' + struct.pack('>q', int(time.time() * 1000)) + b'\x00\x09app.bench' + b'\xff\xff' * 4 +
                  b'{"t":123456789012345,"a":1,"p":"' + b'x' * 170 + b'"}')
        serial = [0]

        def run(events):
            calls = max(1, events // (opts.group * fanout))
            in_flight = 0
            for _ in range(calls):
                targets = [(serial[0] * opts.group + i) % (rooms or opts.users) for i in range(opts.group)]
                conn.send(group_arguments(call, targets, record, opts.ids, serial[0],
                                          'think' if opts.lifecycle else '', opts.room, opts.dedup_ms))
                serial[0] += 1
                in_flight += 1
                if in_flight >= 2:
                    check(conn.read())
                    in_flight -= 1
            while in_flight:
                check(conn.read())
                in_flight -= 1
            return calls * opts.group

        def check(reply):
            if opts.room:
                # Per room event: {'shared', seen, {member, place, head, ...}, {members elsewhere}}, all numbered here.
                for answer in reply[0]:
                    if answer[0] != b'shared' or len(answer[2]) != 3 * opts.room or answer[3]:
                        raise RuntimeError('unexpected answer: %r' % answer[:3])
                return
            # One request's answers, flat: the event's place (an integer) then the stream's head per event, numbered
            # (never a refusal).
            answers = reply[0]
            if len(answers) != 2 * opts.group or not all(a.isdigit() for a in answers[0::2]) or \
                    not all(a.count(b':') == 2 for a in answers[1::2]):
                raise RuntimeError('unexpected answer: %r' % answers[:4])

        if opts.lifecycle:
            # Each user's run started once (agent_started), so every event after it is checked against a live run.
            for first in range(0, opts.users, opts.group):
                users = list(range(first, min(first + opts.group, opts.users)))
                conn.send(group_arguments(call, users, record, False, -1, 'start', dedup_ms=opts.dedup_ms))
                answers = conn.read()[0]
                if len(answers) != 2 * len(users):
                    raise RuntimeError('run not started: %r' % answers[:4])
        run(opts.warmup_events)
        time.sleep(0.2)
        conn.call('CONFIG', 'RESETSTAT')
        rewrites0 = info_field(conn, 'persistence', 'aof_rewrites')
        delivered[0] = 0
        if opts.callgrind:
            callgrind_control('-i', 'on', str(pid))
        user0, total0 = cpu_seconds(pid)
        started = time.time()
        events = run(opts.events)
        elapsed = time.time() - started
        user1, total1 = cpu_seconds(pid)
        if opts.callgrind:
            callgrind_control('-i', 'off', str(pid))
            callgrind_control('-d', str(pid))
            instructions = callgrind_instructions(data, pid, opts.callgrind_keep)
        stats = conn.call('INFO', 'commandstats').decode()
        # Each append-only rewrite is a pass over the whole data set, in a forked child (counted above, once reaped):
        # how often it runs depends on auto-aof-rewrite-min-size and on how well the data set compresses.
        rewrites = info_field(conn, 'persistence', 'aof_rewrites') - rewrites0
        memory = info_field(conn, 'memory', 'used_memory')
        deliveries = events * fanout
        print('publish.lua, groups of %d, %d users%s%s: %d events in %.2f s (%.0f events/s)' % (
            opts.group, opts.users, ', rooms of %d' % opts.room if opts.room else '', ', with ids' if opts.ids else '',
            events, elapsed, events / elapsed))
        print('Redis CPU per event: %.2f us (user %.2f us)' % ((total1 - total0) * 1e6 / events,
                                                             (user1 - user0) * 1e6 / events))
        if opts.room:
            print('Redis CPU per delivery: %.2f us (user %.2f us)' % ((total1 - total0) * 1e6 / deliveries,
                                                                    (user1 - user0) * 1e6 / deliveries))
        if opts.callgrind:
            print('Redis instructions per event (callgrind, user space): %.0f' % (instructions / events))
            if opts.room:
                print('Redis instructions per delivery (callgrind, user space): %.0f' % (instructions / deliveries))
        print('append-only rewrites started while measured: %d; memory used: %.0f MiB' % (rewrites, memory / 2**20))
        for line in stats.split('\r\n'):
            if line.startswith('cmdstat_') and not line.startswith(('cmdstat_config', 'cmdstat_info')):
                name, rest = line.split(':', 1)
                f = dict(kv.split('=') for kv in rest.split(','))
                print('  %-10s calls per event %.2f, us per event %.2f' % (
                    name[8:], int(f['calls']) / events, int(f['usec']) / events))
        time.sleep(0.2)
        print('channel messages delivered while measured: %d of %d' % (delivered[0], deliveries))
    finally:
        redis.terminate()
        redis.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == '__main__':
    main()
