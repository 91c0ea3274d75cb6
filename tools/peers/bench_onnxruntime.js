#!/usr/bin/env node
// bench_onnxruntime.js: one tower of an exported CLIP (tools/peers/export_onnx.py) on ONNX
// Runtime's CPU execution provider, through the npm package onnxruntime-node.
//
//   node bench_onnxruntime.js --model DIR/image.onnx --batch B --threads T [--iters N]
//        [--warmup W] [--tokens K] [--no-spin] [--ort PATH]
//   node bench_onnxruntime.js --verify DIR [--ort PATH]
//
// Session: intraOpNumThreads T, interOpNumThreads 1, graphOptimizationLevel 'all', sequential
// execution, CPU provider only. The tower (image or text) is read from the graph's input.
// Inputs: images [B, 3, S, S] float32 with values in [-2, 2) (clipvk's bench feeds the same
// kind); texts [B, 77] int64 rows like clipvk's bench (src/bench/bench_model.c): a start
// token, random ordinary ids, the end token at position K-1 (K = --tokens, default the whole
// context), zeros after. Runs W warm-up calls (default 2), then N timed calls (default 10)
// and prints one JSON line {tower, batch, threads, tokens, iters, median_ms, min_ms,
// per_item_per_s, ...}. --tokens K < 77 with --trim feeds [B, K] (what a runtime that stops at
// the last real token computes); without --trim the rows stay [B, 77].
//
// --verify DIR runs DIR/image.onnx and DIR/text.onnx on the inputs DIR/export.json keeps and
// prints the cosine of ORT's embeddings with PyTorch's (which export_onnx.py checked against
// clipvk); it fails below 0.9999.
//
// onnxruntime-node comes from `npm install --ignore-scripts onnxruntime-node@1.30` in a folder
// outside the repository; --ort PATH or $CLIPVK_ORT_NODE_MODULES names its node_modules
// (default /work/peers/node_modules). The install script only fetches optional GPU files; the
// CPU provider ships in the package.
'use strict';
const fs = require('fs');
const path = require('path');

function die(msg) {
  process.stderr.write(`bench_onnxruntime.js: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = { batch: 1, threads: 1, iters: 10, warmup: 2, tokens: 0, trim: false, spin: true,
              ort: process.env.CLIPVK_ORT_NODE_MODULES || '/work/peers/node_modules' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    const num = () => { const n = Number(v); if (!Number.isInteger(n) || n < 0) die(`${a} wants a number`); i++; return n; };
    if (a === '--model') { o.model = v; i++; }
    else if (a === '--verify') { o.verify = v; i++; }
    else if (a === '--ort') { o.ort = v; i++; }
    else if (a === '--batch') o.batch = num();
    else if (a === '--threads') o.threads = num();
    else if (a === '--iters') o.iters = num();
    else if (a === '--warmup') o.warmup = num();
    else if (a === '--tokens') o.tokens = num();
    else if (a === '--trim') o.trim = true;
    else if (a === '--no-spin') o.spin = false;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 29)
        .map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
      process.exit(0);
    } else die(`unknown option '${a}' (see --help)`);
  }
  if (!o.model && !o.verify) die('say --model FILE.onnx or --verify DIR (see --help)');
  if (o.batch < 1 || o.threads < 1 || o.iters < 1) die('--batch, --threads and --iters must be >= 1');
  return o;
}

function loadOrt(dir) {
  let p;
  try {
    p = require.resolve('onnxruntime-node', { paths: [dir] });
  } catch (e) {
    die(`onnxruntime-node not found under ${dir} (npm install --ignore-scripts onnxruntime-node@1.30 ` +
        'there, then pass --ort DIR/node_modules or set CLIPVK_ORT_NODE_MODULES)');
  }
  try {
    return require(p);
  } catch (e) {
    die(`onnxruntime-node at ${p} does not load: ${e.message.split('\n')[0]}`);
  }
}

function version(ort, dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'onnxruntime-node', 'package.json'), 'utf8')).version;
  } catch (e) {
    return (ort.env && ort.env.versions && ort.env.versions.node) || 'unknown';
  }
}

async function session(ort, file, o) {
  if (!fs.existsSync(file)) die(`${file} not found (run tools/peers/export_onnx.py)`);
  const opts = { executionProviders: ['cpu'], intraOpNumThreads: o.threads, interOpNumThreads: 1,
                 graphOptimizationLevel: 'all', executionMode: 'sequential' };
  if (!o.spin) opts.extra = { session: { intra_op: { allow_spinning: '0' } } };
  return ort.InferenceSession.create(file, opts);
}

// A small deterministic generator (mulberry32) so runs feed the same inputs.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function inputs(ort, meta, tower, o) {
  const r = rng(1234);
  if (tower === 'image') {
    const S = meta.image_size, n = o.batch * 3 * S * S, x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = r() * 4 - 2;
    return { feed: new ort.Tensor('float32', x, [o.batch, 3, S, S]), tokens: null };
  }
  const L = meta.context, V = meta.vocab_size, eos = meta.eos_token_id;
  const K = o.tokens || L;
  if (K < 2 || K > L) die(`--tokens must be 2..${L}`);
  const width = o.trim ? K : L, ids = new BigInt64Array(o.batch * width);
  for (let b = 0; b < o.batch; b++) {
    for (let i = 0; i < K; i++) ids[b * width + i] = BigInt(1 + Math.floor(r() * (V - 4)));
    ids[b * width] = BigInt(V - 2);
    ids[b * width + K - 1] = BigInt(eos === 2 ? V - 1 : eos);
  }
  return { feed: new ort.Tensor('int64', ids, [o.batch, width]), tokens: K, width };
}

function readMeta(file) {
  const p = path.join(path.dirname(file), 'export.json');
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch (e) {
    return { image_size: 224, context: 77, vocab_size: 49408, eos_token_id: 2 };
  }
}

function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
}

async function verify(ort, o) {
  const meta = JSON.parse(fs.readFileSync(path.join(o.verify, 'export.json'), 'utf8'));
  const v = meta.verify, S = meta.image_size, n = 3 * S * S, px = new Float32Array(n);
  for (let i = 0; i < n; i++) px[i] = ((i * 40503) % 1000) * 4e-3 - 2;
  let worst = 1;
  const img = await session(ort, path.join(o.verify, 'image.onnx'), o);
  const oi = await img.run({ [img.inputNames[0]]: new ort.Tensor('float32', px, [1, 3, S, S]) });
  const ei = oi[img.outputNames[0]].data;
  const ci = cosine(ei, v.image_embeds[0]);
  worst = Math.min(worst, ci);
  const txt = await session(ort, path.join(o.verify, 'text.onnx'), o);
  const rows = v.input_ids.length, L = v.input_ids[0].length;
  const ids = BigInt64Array.from(v.input_ids.flat().map(BigInt));
  const ot = await txt.run({ [txt.inputNames[0]]: new ort.Tensor('int64', ids, [rows, L]) });
  const et = ot[txt.outputNames[0]].data, D = et.length / rows, ct = [];
  for (let r = 0; r < rows; r++) ct.push(cosine(et.subarray(r * D, (r + 1) * D), v.text_embeds[r]));
  worst = Math.min(worst, ...ct);
  console.log(JSON.stringify({ verify: o.verify, image_cosine: ci, text_cosine: ct, ok: worst > 0.9999 }));
  if (!(worst > 0.9999)) die(`ONNX Runtime disagrees with PyTorch (cosine ${worst})`);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ort = loadOrt(o.ort);
  if (o.verify) return verify(ort, o);
  const meta = readMeta(o.model);
  const t0 = performance.now();
  const s = await session(ort, o.model, o);
  const loadMs = performance.now() - t0;
  const inName = s.inputNames[0];
  const tower = inName === 'pixel_values' ? 'image' : inName === 'input_ids' ? 'text' : die(`unknown input ${inName}`);
  const { feed, tokens, width } = inputs(ort, meta, tower, o);
  const feeds = { [inName]: feed };
  for (let i = 0; i < o.warmup; i++) await s.run(feeds);
  const t = [];
  for (let i = 0; i < o.iters; i++) {
    const a = performance.now();
    await s.run(feeds);
    t.push(performance.now() - a);
  }
  t.sort((x, y) => x - y);
  const med = t[Math.floor(t.length / 2)];
  const out = { tower, batch: o.batch, threads: o.threads, iters: o.iters, median_ms: +med.toFixed(2),
                min_ms: +t[0].toFixed(2), per_item_per_s: +(o.batch * 1000 / med).toFixed(2),
                load_ms: +loadMs.toFixed(0), onnxruntime_node: version(ort, o.ort), spin: o.spin };
  if (tower === 'text') Object.assign(out, { tokens, width });
  console.log(JSON.stringify(out));
  await s.release();
}

main().catch((e) => die(e && e.message ? e.message.split('\n')[0] : String(e)));
