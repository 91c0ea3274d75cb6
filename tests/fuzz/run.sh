#!/bin/sh
# Runs every libFuzzer target of a CLIPVK_FUZZ build for a bounded time each:
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
# Each target starts from its committed seeds (tests/fuzz/corpus/<target>,
# read only) plus the regression inputs, and writes new coverage and any
# crash under BUILD_DIR/fuzz-work/<target>/. Prints executions per target;
# exits 1 if any target crashed (the crash input's path is printed: copy it
# to tests/fuzz/regressions/<target>/ once fixed).
set -u
build=$(cd "$1" && pwd) secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=${*:-safetensors config tokenizer npy image sentencepiece wordpiece torch_bin}
failed=""
printf '%-12s %8s %12s %10s %s\n' target seconds executions exec/s result
for t in $targets; do
    exe="$build/tests/fuzz/fuzz_$t"
    [ -x "$exe" ] || { echo "$exe not built (configure with CC=clang -DCLIPVK_FUZZ=ON)"; exit 2; }
    work="$build/fuzz-work/$t"
    mkdir -p "$work/corpus"
    seeds="$here/corpus/$t"
    regs="$here/regressions/$t"
    [ -d "$regs" ] || regs=""
    log="$work/log.txt"
    # -timeout: one input running 10 s is a bug (a hang); -rss_limit_mb and
    # -malloc_limit_mb: far above what any input needs (the targets cap
    # sizes), so a tiny file that makes the code allocate hundreds of MiB is
    # reported; -max_len: larger than every seed (the biggest are ~8 KB).
    # -seed: fixed (CLIPVK_FUZZ_SEED, default 1) so that a CI run explores the
    # same inputs every time and cannot fail by chance on code it did not
    # change; CLIPVK_FUZZ_SEED=0 lets libFuzzer pick a new one (for hunting).
    start=$(date +%s)
    "$exe" -seed="${CLIPVK_FUZZ_SEED:-1}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=16384 -print_final_stats=1 \
        -artifact_prefix="$work/" "$work/corpus" "$seeds" $regs >"$log" 2>&1
    rc=$?
    end=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        result=ok
    else
        result="CRASH (exit $rc)"
        failed="$failed $t"
    fi
    printf '%-12s %8s %12s %10s %s\n' "$t" "$((end - start))" "${execs:-?}" "${rate:-?}" "$result"
    if [ "$rc" -ne 0 ]; then
        grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$log" | head -n 8 | sed 's/^/    /'
        echo "    full log: $log"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: crashes in:$failed"
    exit 1
fi
echo "fuzz: no crashes"
