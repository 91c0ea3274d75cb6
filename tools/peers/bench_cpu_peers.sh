#!/bin/sh
# bench_cpu_peers.sh: clipvk and ONNX Runtime (CPU provider) side by side on the CPU, on the same
# random-weight ViT-B/32, alternated in one run (the machine may be shared: every round runs
# each case on both, so drift hits both alike).
#
# Reproduce (from the repository root):
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2
#   mkdir -p /work/peers && (cd /work/peers && npm install --ignore-scripts onnxruntime-node@1.30)
#   /usr/bin/python3 tools/peers/export_onnx.py --out /work/peers/vitb32   # needs python3-torch
#   node tools/peers/bench_onnxruntime.js --verify /work/peers/vitb32       # ORT == PyTorch
#   tools/peers/bench_cpu_peers.sh
#
# Variables (defaults in brackets):
#   PEER_DIR     export_onnx.py's --out: image.onnx, text.onnx, model/ [/work/peers/vitb32]
#   ORT_MODULES  node_modules holding onnxruntime-node [/work/peers/node_modules]
#   CLIPVK       the clipvk binary [build/clipvk]
#   DEVICES      clipvk --device values, each benchmarked [cpu 0: the native CPU backend and, with
#                lavapipe pinned, device 0 = llvmpipe]
#   ICD          Vulkan ICD file pinned through VK_ICD_FILENAMES / VK_DRIVER_FILES [the system's
#                lavapipe, as the tests pin it]; ICD= (empty) leaves the loader's choice.
#   BATCHES [1 8]  THREADS [2 1]  TOWERS [image text text8]  ROUNDS [3]  ITERS [5]
#   OUT          also keep the raw JSON lines here [none]
#   REPORT       print the table of a kept OUT file again, running nothing
# Threads: ORT gets intraOpNumThreads T (interOpNumThreads 1). clipvk's CPU backend gets
# --threads T; on a Vulkan device LP_NUM_THREADS=T, the number of threads llvmpipe runs compute
# dispatches on (its default: one per core).
# Towers: image = [B,3,224,224]; text = [B,77] ids with the end token at position 76 on both
# sides (clipvk's bench "tokens 77" row); text8 = 8 real tokens: clipvk gets [B,77] rows with the
# end token at position 7 and stops at the last real token (its bench's "tokens 8" row), ORT gets
# the trimmed [B,8] ids (the exported graph takes any length <= 77) -- each side's best way to
# run a short prompt.
# Each clipvk call runs `clipvk bench --model DIR --batch B --precision fp32 --iters N --json`
# (one warm-up call, then the median of N; it measures all towers in one process); each ORT call
# is bench_onnxruntime.js (2 warm-up calls, the median of N). The table holds the median over
# rounds of those medians; clipvk/ORT = clipvk items/s / ORT items/s of those medians (above 1:
# clipvk is faster); "best rounds" = the same ratio from each side's fastest round (other jobs
# only ever add time, so on a shared machine that is the steadier figure).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PEER_DIR=${PEER_DIR:-/work/peers/vitb32}
ORT_MODULES=${ORT_MODULES:-/work/peers/node_modules}
CLIPVK=${CLIPVK:-$root/build/clipvk}
DEVICES=${DEVICES:-cpu 0}
BATCHES=${BATCHES:-1 8}
THREADS=${THREADS:-2 1}
TOWERS=${TOWERS:-image text text8}
ROUNDS=${ROUNDS:-3}
ITERS=${ITERS:-5}
OUT=${OUT:-}
if [ -z "${ICD+set}" ]; then
    ICD=
    for f in /usr/share/vulkan/icd.d/lvp_icd.$(uname -m).json /usr/share/vulkan/icd.d/lvp_icd.json; do
        if [ -f "$f" ]; then ICD=$f; break; fi
    done
fi

die() { echo "bench_cpu_peers.sh: $*" >&2; exit 1; }
report() { # the table of a file of JSON lines
node - "$1" "$TOWERS" "$THREADS" "$BATCHES" "$DEVICES" <<'EOF'
const fs = require('fs');
const [log, towers, threads, batches, devices] = process.argv.slice(2);
const rows = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const want = { image: ['image', 50], text: ['text', 77], text8: ['text', 8] };
const devs = devices.split(/\s+/).filter((d) => d);
const names = {};
let head = '| tower | batch | threads | ORT ms/call |', sep = '|---|---:|---:|---:|';
for (const d of devs) { head += ` clipvk ${d} ms/call | ${d}/ORT | ${d}/ORT best |`; sep += '---:|---:|---:|'; }
if (devs.length === 2) { head += ` ${devs[0]}/${devs[1]} |`; sep += '---:|'; }
console.log(head);
console.log(sep);
for (const tw of towers.split(/\s+/)) for (const t of threads.split(/\s+/).map(Number))
  for (const b of batches.split(/\s+/).map(Number)) {
    const ort = rows.filter((r) => r.side === 'ort' && r.case === tw && r.r.batch === b && r.r.threads === t)
      .map((r) => r.r.median_ms);
    if (!ort.length) continue;
    const o = med(ort);
    let line = `| ${tw} | ${b} | ${t} | ${o.toFixed(1)} |`;
    const meds = [];
    for (const d of devs) {
      const cv = [];
      for (const r of rows.filter((r) => r.side === 'clipvk' && (r.device || '0') === d && r.batch === b && r.threads === t)) {
        names[d] = r.r.device;
        const x = r.r.results.find((x) => x.tower === want[tw][0] && x.batch === b &&
                                          (tw === 'image' || x.tokens === want[tw][1]));
        if (x) cv.push(x.ms);
      }
      if (!cv.length) { line += ' | | |'; meds.push(NaN); continue; }
      const c = med(cv);
      meds.push(c);
      line += ` ${c.toFixed(1)} | ${(o / c).toFixed(3)} | ${(Math.min(...ort) / Math.min(...cv)).toFixed(3)} |`;
    }
    if (devs.length === 2) line += ` ${(meds[1] / meds[0]).toFixed(2)} |`;
    console.log(line);
  }
for (const d of devs) console.log(`# clipvk --device ${d}: ${names[d] || '?'}`);
console.log(`# ${rows.length} runs; ms: medians over rounds of each run's median; X/ORT: throughput ratio (above 1: clipvk faster); best: each side's fastest round`);
EOF
}
if [ -n "${REPORT:-}" ]; then report "$REPORT"; exit 0; fi
command -v node >/dev/null 2>&1 || die "node not found (Debian: apt-get install nodejs)"
[ -x "$CLIPVK" ] || die "$CLIPVK not found (build clipvk: cmake --build build)"
for f in image.onnx text.onnx export.json model/config.json; do
    [ -f "$PEER_DIR/$f" ] || die "$PEER_DIR/$f not found (run tools/peers/export_onnx.py --out $PEER_DIR)"
done
node -e "require(require.resolve('onnxruntime-node', {paths: ['$ORT_MODULES']}))" 2>/dev/null ||
    die "onnxruntime-node does not load from $ORT_MODULES (npm install --ignore-scripts onnxruntime-node@1.30)"
if [ -n "$ICD" ]; then
    export VK_ICD_FILENAMES="$ICD" VK_DRIVER_FILES="$ICD"
fi
clipvk_threads_opt=0
if "$CLIPVK" bench --help 2>/dev/null | grep -q -- '--threads'; then clipvk_threads_opt=1; fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
bench_ort() { # tower batch threads round
    case $1 in
        image) m=image.onnx; extra= ;;
        text) m=text.onnx; extra= ;;
        text8) m=text.onnx; extra="--tokens 8 --trim" ;;
    esac
    # shellcheck disable=SC2086
    r=$(node "$here/bench_onnxruntime.js" --ort "$ORT_MODULES" --model "$PEER_DIR/$m" --batch "$2" \
        --threads "$3" --iters "$ITERS" $extra) || die "ONNX Runtime failed: $1 batch $2 threads $3"
    echo "{\"side\": \"ort\", \"case\": \"$1\", \"round\": $4, \"r\": $r}" >>"$log"
}
bench_clipvk() { # device batch threads round
    if [ "$clipvk_threads_opt" = 1 ] && [ "$1" = cpu ]; then
        r=$("$CLIPVK" bench --model "$PEER_DIR/model" --batch "$2" --precision fp32 --device "$1" \
            --threads "$3" --iters "$ITERS" --json) || die "clipvk bench failed: --device $1 batch $2 threads $3"
    else
        r=$(LP_NUM_THREADS=$3 "$CLIPVK" bench --model "$PEER_DIR/model" --batch "$2" --precision fp32 \
            --device "$1" --iters "$ITERS" --json) || die "clipvk bench failed: --device $1 batch $2 threads $3"
    fi
    echo "{\"side\": \"clipvk\", \"device\": \"$1\", \"batch\": $2, \"threads\": $3, \"round\": $4, \"r\": $(echo "$r" | tr -d '\n')}" >>"$log"
}
bench_clipvk_all() { # batch threads round
    for d in $DEVICES; do bench_clipvk "$d" "$1" "$2" "$3"; done
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo "# clipvk: $CLIPVK --device $DEVICES${ICD:+ (VK_ICD_FILENAMES=$ICD)}; threads: --threads (cpu), LP_NUM_THREADS (lavapipe)"
echo "# ORT: onnxruntime-node $(node -p "require('$ORT_MODULES/onnxruntime-node/package.json').version"), $PEER_DIR"
echo "# rounds $ROUNDS, iters $ITERS, batches $BATCHES, threads $THREADS, towers $TOWERS"
for round in $(seq 1 "$ROUNDS"); do
    for t in $THREADS; do
        for b in $BATCHES; do
            # ORT and clipvk alternate, and which goes first alternates by round.
            if [ $((round % 2)) = 1 ]; then
                for tw in $TOWERS; do bench_ort "$tw" "$b" "$t" "$round"; done
                bench_clipvk_all "$b" "$t" "$round"
            else
                bench_clipvk_all "$b" "$t" "$round"
                for tw in $TOWERS; do bench_ort "$tw" "$b" "$t" "$round"; done
            fi
            echo "# round $round threads $t batch $b done" >&2
        done
    done
done
[ -z "$OUT" ] || cp "$log" "$OUT"
report "$log"
