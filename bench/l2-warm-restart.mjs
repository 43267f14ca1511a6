// Warm restart of 1 M items: load them into L1 (-m large enough to hold them
// all), stop with SIGTERM (L1 is written to L2 and LevelDB closed), start again
// on the same data directory and time how long until it serves, then check a
// sample is served with the same flags. Reads the server's own JSON log lines
// ("L2 closed" closeMs, "L2 opened" openMs) and times the wall clock around them.
//
//   npm run build && node bench/l2-warm-restart.mjs [--items 1000000] [--value-bytes 100] [--memory 512]

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bulkLoad, countHits } from './lib/bulk-loader.mjs';
import { keyName } from './lib/request-pool.mjs';
import { readStats } from './lib/servers.mjs';

const BIN = fileURLToPath(new URL('../bin/rat-memcached', import.meta.url));
const { values: args } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    'value-bytes': { type: 'string', default: '100' },
    memory: { type: 'string', default: '512' },
  },
});
const items = Number(args.items);
const valueBytes = Number(args['value-bytes']);

function start(dataDir) {
  const startedMs = Date.now();
  const child = spawn(process.execPath, [BIN, '--port', '0', '-m', args.memory, '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs = [];
  const lines = createInterface({ input: child.stdout });
  const listening = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    lines.on('line', (line) => {
      const entry = JSON.parse(line);
      logs.push(entry);
      if (entry.msg === 'listening') resolve({ port: entry.port, readyMs: Date.now() - startedMs });
    });
  });
  const stop = () =>
    new Promise((resolve) => {
      const stoppingMs = Date.now();
      child.once('exit', () => resolve(Date.now() - stoppingMs));
      child.kill('SIGTERM');
    });
  return { listening, logs, stop };
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rat-warm-'));
try {
  const first = start(dataDir);
  const { port } = await first.listening;
  const load = await bulkLoad({ port, items, valueBytes });
  const before = await readStats(port);
  const stopMs = await first.stop();
  const closed = first.logs.find((e) => e.msg === 'L2 closed') ?? {};

  const second = start(dataDir);
  const { port: port2, readyMs } = await second.listening;
  const opened = second.logs.find((e) => e.msg === 'L2 opened') ?? {};
  const sample = Array.from({ length: 10_000 }, (_, i) => keyName(Math.floor((i * items) / 10_000)));
  const readStartMs = Date.now();
  const hits = await countHits(port2, sample);
  const readMs = Date.now() - readStartMs;
  const after = await readStats(port2);
  await second.stop();

  console.log(
    `items ${items} x ${valueBytes} B, loaded in ${load.seconds.toFixed(1)} s; curr_items ${before.get('curr_items')}`,
  );
  console.log(
    `stop (SIGTERM -> exit): ${stopMs} ms; L2 closed: written ${closed.written}, closeMs ${closed.closeMs}`,
  );
  console.log(
    `restart (spawn -> listening): ${readyMs} ms; L2 opened: items ${opened.items}, bytes ${opened.bytes}, openMs ${opened.openMs}`,
  );
  console.log(
    `sample after restart: ${hits}/${sample.length} hits in ${readMs} ms (promoted from L2: l2_hits ${after.get('l2_hits')})`,
  );
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
