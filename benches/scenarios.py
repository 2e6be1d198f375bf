#!/usr/bin/env python3
"""The benchmark scenario suite (issue 14): end-to-end durable throughput of a release `passerelle
run` on its SQLite default (fsync on every commit, per-patient order, delivery running), each
message delivered twice (HL7 v2 over MLLP, a FHIR Bundle over HTTP) to the sinks `passerelle
loadgen` runs in its own process (config/examples/scenarios.toml). With two cores or more the
gateway is pinned to core 0 and the load generator with its sinks to core 1 (taskset), so that the
gateway's CPU seconds (from /proc, its process only) are its own.

For each scenario and each run it reports acknowledged msg/s, delivered msg/s (both sinks), ACK
and end-to-end latency p50/p99/p99.9, the gateway's idle and peak RSS and its CPU per message in
and out; then each figure as a range over the runs.

    cargo build --release -p passerelle && python3 benches/scenarios.py [--runs 3] [--messages 20000]
        [--rate 0] [--connections 32] [SCENARIO...]

Scenarios: adt (ADT^A01 over MLLP, 1,000 patients), adt-cda (every other message an ORU^R01
carrying a 50 KB CDA, the others ADT), fhir (FHIR message Bundles over HTTP), mix (a
quarter of the connections FHIR, 100 senders, 10,000 patients). Default: all four. `--rate 5000`
paces the load (the latency goal is stated at 5,000 msg/s). PASSERELLE_BIN runs another build of
the gateway (PASSERELLE_LOADGEN_BIN another load generator), to compare side by side.
"""
import argparse, json, os, pathlib, shutil, subprocess, tempfile, time
from gateway_process import rss_mib, wait_port

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Paths relative to where the suite is started (each gateway runs in its own directory).
BIN = str(pathlib.Path(os.environ.get("PASSERELLE_BIN", ROOT / "target/release/passerelle")).resolve())
# The load generator of this tree, also when PASSERELLE_BIN is an older gateway to compare with.
LOADGEN = str(pathlib.Path(os.environ.get("PASSERELLE_LOADGEN_BIN", ROOT / "target/release/passerelle")).resolve())
CONFIG = ROOT / "config/examples/scenarios.toml"
SCENARIOS = {
    "adt": ["--scenario", "adt", "--patients", "1000"],
    "adt-cda": ["--scenario", "adt-cda", "--patients", "1000"],
    "fhir": ["--scenario", "fhir", "--patients", "1000"],
    "mix": ["--scenario", "mix", "--senders", "100", "--patients", "10000"],
}




def pinned(core):
    """taskset to one core when the machine has two or more and taskset is there."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", str(core)]
    return []


def run_once(name, args):
    with tempfile.TemporaryDirectory() as tmp:
        log = open(pathlib.Path(tmp) / "gateway.log", "w+")
        gateway = subprocess.Popen(pinned(0) + [BIN, "run", "--config", str(CONFIG)], cwd=tmp,
                                   env=dict(os.environ, RUST_LOG="warn"), stderr=log, stdout=subprocess.DEVNULL)
        try:
            try:
                for port in (2576, 2579, 9191):
                    wait_port(port)
            except SystemExit:
                log.seek(0)
                raise SystemExit(f"{name}: the gateway did not start (exit {gateway.poll()}):\n{log.read()[-4000:]}")
            time.sleep(0.5)
            idle = rss_mib(gateway.pid, "VmRSS")
            load = [LOADGEN, "loadgen", "--mllp", "127.0.0.1:2576", "--http", "127.0.0.1:2579", "--admin", "127.0.0.1:9191",
                    "--sink-port", "2577", "--http-sink-port", "2578", "--messages", str(args.messages),
                    "--connections", str(args.connections), "--rate", str(args.rate), "--gateway-pid", str(gateway.pid),
                    "--json"] + SCENARIOS[name]
            done = subprocess.run(pinned(1) + load, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"{name}: loadgen failed:\n{done.stderr}")
            out = done.stdout
        finally:
            gateway.terminate()
            gateway.wait(30)
    try:
        r = json.loads(out)
    except ValueError:
        raise SystemExit(f"{name}: unexpected loadgen output:\n{out}")
    nan = lambda v: float("nan") if v is None else float(v)
    return {
        "acknowledged msg/s": nan(r["acked_per_s"]),
        "not AA": nan(r["not_accepted"]),
        "delivered msg/s": nan(r["delivered_per_s"]),
        "ACK p50 ms": nan(r["ack_p50_ms"]), "ACK p99 ms": nan(r["ack_p99_ms"]), "ACK p99.9 ms": nan(r["ack_p999_ms"]),
        "e2e p50 ms": nan(r["e2e_p50_ms"]), "e2e p99 ms": nan(r["e2e_p99_ms"]), "e2e p99.9 ms": nan(r["e2e_p999_ms"]),
        "idle RSS MiB": idle, "peak RSS MiB": nan(r["peak_rss_mib"]),
        "gateway CPU µs/msg": nan(r["gateway_cpu_us_per_msg"]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=int, default=0)
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    print(f"{BIN}: {args.messages} messages, {args.connections} connections, rate {args.rate or 'as fast as ACKs come'}, "
          f"{args.runs} runs; gateway on {'core 0' if pinned(0) else 'any core'}, load generator and sinks on {'core 1' if pinned(1) else 'any core'}", flush=True)
    table = []
    for name in args.scenarios:
        runs = []
        for r in range(args.runs):
            result = run_once(name, args)
            runs.append(result)
            print(f"{name} run {r + 1}: " + ", ".join(f"{k} {v:.0f}" if v >= 100 else f"{k} {v:.2f}" for k, v in result.items()), flush=True)
        table.append((name, {k: (min(r[k] for r in runs), max(r[k] for r in runs)) for k in runs[0]}))
    keys = list(table[0][1]) if table else []
    print("\n| scenario | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
    for name, ranges in table:
        cells = [(f"{lo:,.0f}–{hi:,.0f}" if lo >= 100 else f"{lo:.2f}–{hi:.2f}") for lo, hi in ranges.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
