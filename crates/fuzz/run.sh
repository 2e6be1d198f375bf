#!/usr/bin/env bash
# Fuzzes Passerelle's decoders with cargo-fuzz (libFuzzer + AddressSanitizer, nightly toolchain).
#   crates/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 s, every target)
# Seeds each target's corpus from fixtures/ and ../shared/corpus (MLLP: those messages framed),
# runs the targets one after the other, and exits non-zero on the first crash; the crashing input
# is in crates/fuzz/artifacts/<target>/. Copy it to crates/fuzz/regressions/<target>/ (its
# replay in crates/gateway/tests/fuzz_regressions.rs then keeps it fixed on stable).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(mllp_codec hl7v2_decode fhir_read cda_read)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: no nightly toolchain (rustup toolchain install nightly); skipped" >&2
  exit 0
fi
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz

shared="${PASSERELLE_SHARED_CORPUS:-../../../shared/corpus}"
seed() { # seed TARGET FIND-ARGS...: copies matching files under fixtures/ and the shared corpus
  local target=$1; shift
  mkdir -p "corpus/$target"
  find ../../fixtures "$shared" -type f \( "$@" \) -size -256k 2>/dev/null | while read -r f; do
    cp -n "$f" "corpus/$target/seed-$(sha1sum "$f" | cut -c1-16)" 2>/dev/null || true
  done
}
seed hl7v2_decode -name '*.hl7' -o -name '*.er7'
seed fhir_read -name '*.json' -o -name '*.fhir'
seed cda_read -name '*.xml' -o -name '*.ccda'
# MLLP: each HL7 v2 seed framed (first byte = the chunk size the target reads in), and pairs of frames.
mkdir -p corpus/mllp_codec
i=0
for f in corpus/hl7v2_decode/seed-*; do
  i=$((i + 1))
  { printf '\x07\x0b'; head -c 3000 "$f"; printf '\x1c\r'; } > "corpus/mllp_codec/seed-$i"
  [ $((i % 10)) -eq 0 ] && { printf '\x20\x0b'; head -c 500 "$f"; printf '\x1c\r\x0bMSH|^~\\&|A\x1c\r'; } > "corpus/mllp_codec/seed-pair-$i"
done

for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds}s"
  cargo +nightly fuzz run --fuzz-dir . -O "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=131072 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 \
    | grep -E '^(fuzz:|stat::|Done|==|SUMMARY|INFO: (Loaded|seed)|#[0-9]+ *(DONE|INITED))|panicked|ERROR' || true
  if [ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]; then
    echo "fuzz: $target crashed; inputs in crates/fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
