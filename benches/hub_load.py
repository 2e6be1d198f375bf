#!/usr/bin/env python3
"""Durable throughput of the gateway on SQLite, on PostgreSQL, and of a hub of N nodes on one
PostgreSQL: release `passerelle run` processes (config/examples/loadtest.toml for SQLite,
config/examples/hub-node.toml for PostgreSQL, each node in a fresh schema shared by the nodes),
`passerelle loadgen` spreading its connections over every node with delivery running (its MLLP
sink on 2577). Prints acknowledged and delivered msg/s, ACK p50/p99, gateway CPU per message, and
for PostgreSQL the database transactions per message (pg_stat_database).

    cargo build --release -p passerelle && python3 benches/hub_load.py [MESSAGES] [SCENARIO...]

Scenarios: sqlite, pg1, pg3 (default: all three).
"""
import os, pathlib, re, subprocess, sys, tempfile, time
from gateway_process import cpu_seconds, wait_port

ROOT = pathlib.Path(__file__).resolve().parent.parent
# PASSERELLE_BIN: another build to compare side by side (the same configs and load).
BIN = os.environ.get("PASSERELLE_BIN", str(ROOT / "target/release/passerelle"))
args = sys.argv[1:]
MESSAGES = int(args.pop(0)) if args and args[0].isdigit() else 20000
SCENARIOS = args or ["sqlite", "pg1", "pg3"]
PG = os.environ.get("PASSERELLE_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=test")


def psql(sql):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-Atqc", sql], check=True, capture_output=True, text=True).stdout.strip()




def run(scenario):
    with tempfile.TemporaryDirectory() as tmp:
        nodes, env_base = [], dict(os.environ, RUST_LOG="warn")
        schema = None
        if scenario == "sqlite":
            procs = [subprocess.Popen([BIN, "run", "--config", str(ROOT / "config/examples/loadtest.toml")], cwd=tmp, env=env_base, stderr=subprocess.DEVNULL)]
            mllp, admin = ["127.0.0.1:2576"], ["127.0.0.1:9191"]
        else:
            count = int(scenario[2:])
            schema = f"bench_{os.getpid()}_{int(time.time())}"
            psql(f"CREATE SCHEMA {schema}")
            procs, mllp, admin = [], [], []
            for n in range(count):
                env = dict(env_base, PASSERELLE_NODE_ID=f"node-{n}", PASSERELLE_DB_URL=f"{PG} options='-c search_path={schema}'",
                           PASSERELLE_MLLP_BIND=f"127.0.0.1:{2580 + n}", PASSERELLE_ADMIN_BIND=f"127.0.0.1:{9200 + n}")
                procs.append(subprocess.Popen([BIN, "run", "--config", str(ROOT / "config/examples/hub-node.toml")], cwd=tmp, env=env, stderr=subprocess.DEVNULL))
                mllp.append(f"127.0.0.1:{2580 + n}")
                admin.append(f"127.0.0.1:{9200 + n}")
        for a in mllp:
            wait_port(int(a.rsplit(":", 1)[1]))
        xacts_before = int(psql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'test'")) if schema else 0
        cpu_before = sum(cpu_seconds(p.pid) for p in procs)
        out = subprocess.run([BIN, "loadgen", "--mllp", ",".join(mllp), "--messages", str(MESSAGES), "--connections", "32",
                              "--admin", ",".join(admin), "--sink-port", "2577"], capture_output=True, text=True).stdout
        cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu_before
        xacts = int(psql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'test'")) - xacts_before if schema else 0
        for p in procs:
            p.terminate()
            p.wait(20)
        if schema and not os.environ.get("PASSERELLE_KEEP_SCHEMA"):
            psql(f"DROP SCHEMA {schema} CASCADE")
        elif schema:
            print(f"kept schema {schema}", flush=True)
        acked = re.search(r"acknowledged: (\d+) msg/s \((\d+) not AA\)", out)
        lat = re.search(r"p50 ([\d.]+) ms, p99 ([\d.]+) ms", out)
        delivered = re.search(r"= (\d+) msg/s end to end", out)
        print(f"{scenario:7} acknowledged {acked.group(1):>6} msg/s ({acked.group(2)} not AA), delivered {delivered.group(1) if delivered else '?':>6} msg/s, "
              f"ACK p50 {lat.group(1)} ms p99 {lat.group(2)} ms, gateway CPU {cpu / MESSAGES * 1e6:.0f} µs/msg"
              + (f", {xacts / MESSAGES:.2f} database transactions/msg" if schema else ""), flush=True)


for s in SCENARIOS:
    run(s)
