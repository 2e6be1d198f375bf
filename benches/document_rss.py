#!/usr/bin/env python3
"""Peak memory of the gateway for one large document: a level-1 CDA of SIZE MB (a PDF of random
bytes, base64 in nonXMLBody) is POSTed to /cda of a release `passerelle run`, journaled, rendered
for two destinations (a FHIR Patient + DocumentReference + Binary bundle and an MDM^T02 carrying
the CDA) and delivered to files. Prints VmHWM (peak RSS) of the gateway process before and after.

    cargo build --release -p passerelle && python3 benches/document_rss.py [SIZE_MB]
"""
import base64, json, os, pathlib, re, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
SIZE_MB = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
# Destinations the document is routed to (both by default; `cabinet` or `ehr` to see one alone).
TO = sys.argv[2].split(",") if len(sys.argv) > 2 else ["cabinet", "ehr"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kb(pid, key):
    text = pathlib.Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{key}:\s+(\d+) kB", text, re.M).group(1))


def document(size_mb):
    template = (ROOT / "fixtures/cda/ok/fr_level1_pdf_replacement.xml").read_text()
    pdf = b"%PDF-1.4\n" + os.urandom(int(size_mb * 1024 * 1024 * 3 / 4))
    body = base64.b64encode(pdf).decode()
    return re.sub(r"(<text mediaType=\"application/pdf\" representation=\"B64\">)[^<]*", lambda m: m.group(1) + body, template).encode()


def main():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="passerelle-rss-"))
    http, admin = free_port(), free_port()
    (tmp / "passerelle.toml").write_text(f"""
[store]
path = "{tmp}/journal.db"
[admin]
bind = "127.0.0.1:{admin}"
[[listener]]
name = "http-in"
kind = "http"
bind = "127.0.0.1:{http}"
max_frame_bytes = 67108864
[[destination]]
name = "cabinet"
kind = "file"
rendering = "fhir-bundle"
dir = "{tmp}/fhir"
[[destination]]
name = "ehr"
kind = "file"
rendering = "mdm"
dir = "{tmp}/hl7"
[[route]]
name = "documents"
match = {{ event = ["document"] }}
to = {json.dumps(TO)}
""")
    binary = ROOT / "target/release/passerelle"
    wrap = os.environ.get("WRAP", "").split()
    gateway = subprocess.Popen(wrap + [str(binary), "run", "--config", str(tmp / "passerelle.toml")], stderr=subprocess.PIPE, text=True)
    try:
        for line in gateway.stderr:
            if "http-in listening" in line:
                break
        time.sleep(0.3)
        idle = status_kb(gateway.pid, "VmHWM")
        doc = document(SIZE_MB)
        started = time.monotonic()
        request = urllib.request.Request(f"http://127.0.0.1:{http}/cda", data=doc, headers={"content-type": "application/hl7-cda+xml"})
        with urllib.request.urlopen(request, timeout=120) as response:
            status = response.status
        acked = time.monotonic() - started
        at_ack = status_kb(gateway.pid, "VmHWM")
        while True:
            rows = json.load(urllib.request.urlopen(f"http://127.0.0.1:{admin}/api/outbox"))
            rows = rows.get("items", rows) if isinstance(rows, dict) else rows
            if sum(1 for r in rows if r.get("status") == "delivered") >= len(TO):
                break
            if time.monotonic() - started > 120:
                raise SystemExit("not delivered within 120 s")
            time.sleep(0.05)
        delivered = time.monotonic() - started
        peak = status_kb(gateway.pid, "VmHWM")
        sizes = {p.name: p.stat().st_size for d in ("fhir", "hl7") if (tmp / d).exists() for p in (tmp / d).iterdir()}
        print(f"document {len(doc) / 1e6:.1f} MB: HTTP {status} after {acked:.2f} s, both delivered after {delivered:.2f} s")
        print(f"outputs: {', '.join(f'{n} {s / 1e6:.1f} MB' for n, s in sorted(sizes.items()))}")
        def grew(kb):
            return f"+{(kb - idle) / 1024:.0f} MiB = {(kb - idle) * 1024 / len(doc):.1f} x the document"
        print(f"peak RSS: idle {idle / 1024:.0f} MiB; by the answer (receive, decode, render, journal) {at_ack / 1024:.0f} MiB ({grew(at_ack)}); "
              f"after delivery {peak / 1024:.0f} MiB ({grew(peak)})")
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)


if __name__ == "__main__":
    main()
