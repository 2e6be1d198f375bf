#!/usr/bin/env bash
# Speed of `passerelle validate` (README "Conformance for vendors"): 1,000 files of each format,
# cycled from the shared corpus (and, for CDA, the CI-SIS fixtures), validated with every pack
# into a JSON report, three runs each, then the start-up time. Usage, from the project root:
#   cargo build --release -p passerelle && benches/validate_speed.sh [../shared/corpus]
set -euo pipefail
corpus="${1:-../shared/corpus}"
bin="${PASSERELLE_BIN:-target/release/passerelle}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$corpus" "$work" <<'PY'
import itertools, pathlib, shutil, sys
corpus, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
def fill(name, sources, keep):
    files = [p for d, pattern in sources for p in sorted(pathlib.Path(d).rglob(pattern)) if p.is_file() and keep(p.read_bytes())]
    (work / name).mkdir()
    for i, f in zip(range(1000), itertools.cycle(files)):
        shutil.copy(f, work / name / f"{i:04d}{f.suffix}")
    print(f"{name}: 1000 files cycled from {len(files)}")
fill("hl7v2", [(corpus / "hl7v2", "*")], lambda b: b.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"MSH"))
fill("cda", [(corpus / "cda", "*.xml"), (corpus / "cda", "*.ccda"), ("fixtures/validate/ok", "*.xml")], lambda b: b"ClinicalDocument" in b[:4096])
fill("fhir", [(corpus / "fhir", "*.json"), (corpus / "fhir", "*.fhir"), (corpus / "expected", "*.json")], lambda b: b.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"{"))
PY
for format in hl7v2 cda fhir; do
  size="$(du -sh "$work/$format" | cut -f1)"
  for run in 1 2 3; do
    /usr/bin/time -f "$format ($size): %e s wall, %M KB peak" "$bin" validate --format json "$work/$format" > /dev/null 2>"$work/err" || true
    grep -v -e skipped -e "non-zero status" "$work/err" || true
  done
done
/usr/bin/time -f "start-up (--list-rules): %e s" "$bin" validate --list-rules > /dev/null
