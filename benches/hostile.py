#!/usr/bin/env python3
"""The hostile senders of issue 10, against a release `passerelle run` on its default limits, while
a legitimate sender on 127.0.0.2 sends one ADT over MLLP every 100 ms. For each scenario: the
gateway's peak and final RSS, its open descriptors at the peak of the attack, the legitimate
sender's ACK latency, connection included (median, p99, max) and how many of its messages did not get AA in 2 s, and
what the journal grew by.

    cargo build --release -p passerelle && python3 benches/hostile.py [BINARY] [SCENARIO...]

Scenarios: idle_http (2 x 9,990 idle HTTP connections from 1,000 addresses), idle_mllp (256 idle
MLLP connections from one address, then the legitimate sender's wait), slow_bodies (1,000 bodies
of 1.9 MB sent over ~15 s), unterminated (250 unterminated 4 MB MLLP frames, just under the default max_frame_bytes), reject_flood (5,000
tiny bad frames). BINARY defaults to target/release/passerelle (pass an older build to compare).
"""
import asyncio, json, os, pathlib, re, resource, socket, statistics, subprocess, sys, tempfile, time

ROOT = pathlib.Path(__file__).resolve().parent.parent
args = sys.argv[1:]
BINARY = args.pop(0) if args and "/" in args[0] else str(ROOT / "target/release/passerelle")
SCENARIOS = args or ["idle_http", "idle_mllp", "slow_bodies", "unterminated", "reject_flood"]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


STATS = {}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def adt(control):
    return (f"\x0bMSH|^~\\&|LEGIT|CHU-TEST|SIH|CHU-TEST|20261201101500||ADT^A01^ADT_A01|{control}|P|2.5\r"
            f"PID|1||IPP-{control}^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||LEGIT^A\rPV1|1|I\r\x1c\r").encode()


class Gateway:
    def __init__(self, workdir):
        self.mllp, self.http, self.admin = free_port(), free_port(), free_port()
        self.db = pathlib.Path(workdir) / "j.db"
        config = pathlib.Path(workdir) / "gw.toml"
        config.write_text(
            f'[store]\npath = "{self.db}"\n[admin]\nbind = "127.0.0.1:{self.admin}"\n'
            f'[[listener]]\nname = "mllp-in"\nkind = "mllp"\nbind = "0.0.0.0:{self.mllp}"\n'
            f'[[listener]]\nname = "http-in"\nkind = "http"\nbind = "0.0.0.0:{self.http}"\n')
        self.proc = subprocess.Popen([BINARY, "run", "--config", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.mllp), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline, "gateway did not start"
                time.sleep(0.05)

    def status_kb(self, key):
        text = pathlib.Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(rf"^{key}:\s+(\d+) kB", text, re.M).group(1))

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def journal_bytes(self):
        return sum(p.stat().st_size for p in self.db.parent.glob("j.db*"))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def legit_sender(gw, stop, latencies, failures):
    """One ADT every 100 ms from 127.0.0.2, each on a new connection (so the accept path is measured
    too); a message without AA within 2 s of connecting counts as a failure."""
    n = 0
    while not stop.is_set():
        n += 1
        started = time.perf_counter()
        writer = None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", gw.mllp, local_addr=("127.0.0.2", 0)), 2)
            writer.write(adt(f"LEGIT-{n}"))
            await writer.drain()
            ack = await asyncio.wait_for(reader.readuntil(b"\x1c\r"), 2)
            if b"MSA|AA|" not in ack:
                failures.append(n)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            failures.append(n)
        latencies.append(time.perf_counter() - started)
        if writer:
            writer.close()
        await asyncio.sleep(0.1)


async def connect_many(port, count, addresses, payload=b""):
    """`count` connections from `addresses` loopback addresses, each sending `payload` once."""
    conns = []
    for i in range(count):
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, local_addr=(f"127.1.{i % addresses // 250}.{i % addresses % 250 + 1}", 0)), 2)
            if payload:
                w.write(payload)
            conns.append((r, w))
        except (OSError, asyncio.TimeoutError):
            pass
    return conns


async def attack(gw, name):
    if name == "idle_http":
        return await connect_many(gw.http, 9990, 1000) + await connect_many(gw.http, 9990, 1000)
    if name == "idle_mllp":
        return await connect_many(gw.mllp, 256, 1)
    if name == "unterminated":
        frame = b"\x0bMSH|^~\\&|X|X|||20261201||ADT^A01|U|P|2.5\rNTE|" + b"x" * 4_000_000
        return await connect_many(gw.mllp, 250, 50, frame)
    if name == "reject_flood":
        r, w = await asyncio.open_connection("127.0.0.1", gw.mllp, local_addr=("127.1.0.1", 0))
        answered = 0
        for i in range(5000):
            w.write(f"\x0bgarbage {i}\x1c\r".encode())
            await w.drain()
            try:
                ack = await asyncio.wait_for(r.readuntil(b"\x1c\r"), 2)
                answered += b"MSA|AR|" in ack
            except (asyncio.TimeoutError, asyncio.IncompleteReadError):
                break
        STATS["flood_answered_ar"] = answered
        return [(r, w)]
    if name == "slow_bodies":
        head = (f"POST /hl7v2 HTTP/1.1\r\nhost: x\r\ncontent-type: x-application/hl7-v2+er7\r\n"
                f"content-length: {1900 * 1024}\r\n\r\n").encode()
        conns = await connect_many(gw.http, 1000, 100, head)
        chunk = b"x" * (64 * 1024)
        for _ in range(30):
            for _, w in conns:
                if not w.is_closing():
                    w.write(chunk)
            await asyncio.sleep(0.5)
        return conns
    raise SystemExit(f"unknown scenario {name}")


async def run(name):
    with tempfile.TemporaryDirectory() as tmp:
        gw = Gateway(tmp)
        journal_before = gw.journal_bytes()
        stop, latencies, failures = asyncio.Event(), [], []
        sender = asyncio.create_task(legit_sender(gw, stop, latencies, failures))
        await asyncio.sleep(1)
        started = time.time()
        conns = await attack(gw, name)
        attack_secs = time.time() - started
        # Hold the attack for 15 s more, sampling the gateway.
        peak_fds = 0
        for _ in range(30):
            peak_fds = max(peak_fds, gw.fds())
            await asyncio.sleep(0.5)
        stop.set()
        await sender
        result = {
            "scenario": name, "binary": BINARY, "attack_secs": round(attack_secs, 1),
            "peak_rss_mb": round(gw.status_kb("VmHWM") / 1024, 1), "rss_mb_at_end": round(gw.status_kb("VmRSS") / 1024, 1),
            "peak_fds": peak_fds, "legit_sent": len(latencies), "legit_not_aa": len(failures),
            "ack_ms_p50": round(statistics.median(latencies) * 1000, 1),
            "ack_ms_p99": round(sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000, 1),
            "ack_ms_max": round(max(latencies) * 1000, 1),
            "journal_growth_mb": round((gw.journal_bytes() - journal_before) / 1e6, 1),
            **STATS,
        }
        STATS.clear()
        for _, w in conns:
            w.close()
        gw.stop()
        return result


for scenario in SCENARIOS:
    print(json.dumps(asyncio.run(run(scenario))), flush=True)
