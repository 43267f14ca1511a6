// Where the worst event-loop stall of a bulk load comes from: a fresh
// rat-memcached (memory only, pinned like the other benches) first gets
// --warm sets of other keys (0 = none), then `stats reset`, then the 1 M
// items of bench/memory.mjs, twice. It prints event_loop_max_delay_ms for
// each load. A first load that stalls far more than the second, and a warmed
// one that does not, point at the JIT warming up rather than at the load.
//
//   npm run build && node bench/load-stall.mjs [--warm 0] [--items 1000000] [--runs 3]

import { parseArgs } from 'node:util';
import { bulkLoad } from './lib/bulk-loader.mjs';
import { pinSelfToCore0, readStats, roundTrip, startServer } from './lib/servers.mjs';

const { values: args } = parseArgs({
  options: {
    warm: { type: 'string', default: '0' },
    items: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
  },
});
const warm = Number(args.warm);
const items = Number(args.items);
pinSelfToCore0();

/** `set warm:<i>` for i < count, 100-byte values, noreply, synced every ~1 MiB with `version`. */
async function warmUp(port, count) {
  const value = 'w'.repeat(100);
  let text = '';
  for (let i = 0; i < count; i++) {
    text += `set warm:${i} 0 0 100 noreply\r\n${value}\r\n`;
    if (text.length > 1 << 20 || i === count - 1) {
      await roundTrip(port, `${text}version\r\n`, 'VERSION');
      text = '';
    }
  }
}

async function maxDelaySince(port, load) {
  await roundTrip(port, 'stats reset\r\n', 'RESET');
  await load();
  return (await readStats(port)).get('event_loop_max_delay_ms');
}

const rows = [];
for (let run = 0; run < Number(args.runs); run++) {
  const server = await startServer({ name: 'rat', label: 'rat' }, { memoryMiB: 1024 });
  try {
    if (warm > 0) await warmUp(server.port, warm);
    const first = await maxDelaySince(server.port, () =>
      bulkLoad({ port: server.port, items, valueBytes: 100 }),
    );
    const again = await maxDelaySince(server.port, () =>
      bulkLoad({ port: server.port, items, valueBytes: 100 }),
    );
    rows.push({ run: run + 1, warm, first, again });
    console.log(`run ${run + 1}: warm-up ${warm} sets; first load ${first} ms, same keys again ${again} ms`);
  } finally {
    await server.stop();
  }
}
console.log(JSON.stringify(rows));
