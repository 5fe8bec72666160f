'use strict';
// Worker threads under leakscope (tests/integration/real_programs/test_node.py):
// each hashes and sorts its own data; the main thread prints the results in
// order and exits with a known code (3).
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const crypto = require('crypto');

const WORKERS = 4;

function work(id) {
  const chunks = [];
  for (let i = 0; i < 2000; ++i) chunks.push(Buffer.alloc(1024, (i * 31 + id) & 0xff));
  const hash = crypto.createHash('sha256');
  for (const c of chunks) hash.update(c);
  const numbers = Array.from({ length: 50000 }, (_, i) => (i * 7919 + id * 104729) % 100003);
  numbers.sort((a, b) => a - b);
  return { id, digest: hash.digest('hex'), median: numbers[numbers.length >> 1] };
}

if (isMainThread) {
  const results = new Array(WORKERS);
  let done = 0;
  for (let id = 0; id < WORKERS; ++id) {
    const w = new Worker(__filename, { workerData: id });
    w.on('message', (r) => {
      results[r.id] = r;
      if (++done === WORKERS) {
        for (const r of results) console.log(`worker ${r.id}: sha256 ${r.digest} median ${r.median}`);
        process.exitCode = 3;
      }
    });
    w.on('error', (e) => { console.error(e); process.exit(1); });
  }
} else {
  parentPort.postMessage(work(workerData));
}
