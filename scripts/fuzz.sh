#!/usr/bin/env bash
# Fuzzes renkei's parsers of untrusted input (the targets in fuzz/, cargo fuzz on the stable
# toolchain): builds every target, makes seeds from the test files (fuzz/seeds.py), then runs
# each target for a bounded time. Fails on any crash, panic, timeout (10 s for one input) or
# out-of-memory (2 GiB); prints each target's executions, coverage and crashes.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 30 s, every target)
#
# RENKEI_FUZZ_TARGET_DIR: the build folder (default fuzz/target). RENKEI_FUZZ_CORPUS: where the
# inputs found so far are kept from one run to the next (default fuzz/corpus). An input that
# failed is saved under fuzz/artifacts/TARGET/; replay it with
#   cargo fuzz run --dev -s none TARGET fuzz/artifacts/TARGET/crash-…
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
shift || true
targets=("$@")
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is missing (scripts/setup.sh installs it)" >&2
  exit 1
fi
build_dir="${RENKEI_FUZZ_TARGET_DIR:-$PWD/fuzz/target}"
corpus="${RENKEI_FUZZ_CORPUS:-$PWD/fuzz/corpus}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Stable Rust: no sanitizer (they need nightly); the dev profile of fuzz/Cargo.toml (debug
# assertions and overflow checks on, quick to build); code no target reaches is not linked.
flags=(--dev --sanitizer none --strip-dead-code --target-dir "$build_dir")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cargo fuzz list)
fi
python3 fuzz/seeds.py "$work/seeds"
started=$SECONDS
cargo fuzz build "${flags[@]}"
echo "fuzz: built in $((SECONDS - started)) s; $seconds s per target"

# Inputs up to 64 KiB where files are parsed (DICOM, MP4, photos, multipart bodies); libFuzzer
# picks the length from the seeds for the others.
max_len() {
  case "$1" in
    dicom_* | mp4_* | photo | stow_*) echo 65536 ;;
    *) echo 0 ;;
  esac
}

failed=()
printf '%-16s %12s %8s %8s %8s  %s\n' target executions cov ft corpus result
for target in "${targets[@]}"; do
  mkdir -p "$corpus/$target" "$work/seeds/$target"
  log="$work/$target.log"
  status=0
  cargo fuzz run "${flags[@]}" "$target" "$corpus/$target" "$work/seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$target")" \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  executions=$(grep -oP 'stat::number_of_executed_units: \K[0-9]+' "$log" || echo "?")
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  cov=$(grep -oP 'cov: \K[0-9]+' <<<"$last" || echo "?")
  ft=$(grep -oP 'ft: \K[0-9]+' <<<"$last" || echo "?")
  units=$(grep -oP 'corp: \K[0-9]+' <<<"$last" || echo "?")
  if ((status == 0)); then
    result="ok, 0 crashes"
  else
    result="FAILED (exit $status)"
    failed+=("$target")
  fi
  printf '%-16s %12s %8s %8s %8s  %s\n' "$target" "$executions" "$cov" "$ft" "$units" "$result"
  if ((status != 0)); then
    # What went wrong (the panic, timeout or OOM report) and where the input was saved.
    grep -E -A 12 'panicked at|==ERROR|ALARM|out-of-memory|Test unit written' "$log" | head -n 60 >&2 \
      || tail -n 40 "$log" >&2
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (inputs saved under fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, no crash in $((SECONDS - started)) s"
