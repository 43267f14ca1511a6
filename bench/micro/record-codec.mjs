#!/usr/bin/env node
// Micro bench of the L2 record codec: encode and decode of a 100 B value, a 4 KiB compressible
// value (JSON-like text) and a 4 KiB incompressible (random) one. A value is LZ4-compressed when
// it is at least compress_min_bytes long (and kept so only if that shrinks it), so 4 KiB values
// are encoded with the default 512 (lz4) and with compression off (raw); a 100 B value is always
// raw, and so is the random value's record either way. Prints each record's size after the table. Imports the build: `npm run build` first.
//
//   node bench/micro/record-codec.mjs [--time-ms 500]
//
// RAT_DIST=/other/checkout/dist runs the same bench against another build (before/after).

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';

const { values: args } = parseArgs({ options: { 'time-ms': { type: 'string', default: '500' } } });
const dist =
  process.env.RAT_DIST || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { encodeRecord, decodeRecord, decodeRecordHeader, DEFAULT_COMPRESS_MIN_BYTES } = await import(
  path.join(dist, 'tiers/level/record-codec.js')
);

const MODES = { lz4: { compressMinBytes: DEFAULT_COMPRESS_MIN_BYTES }, raw: { compressMinBytes: Infinity } };
let text = '';
for (let i = 0; text.length < 4096; i++) {
  text += `{"id":${i},"user":"user-${(i * 7919) % 10007}","active":${i % 3 === 0},"score":${(i * 31) % 997}},`;
}
const cases = [
  { name: '100 B', value: randomBytes(100), modes: ['raw'] },
  { name: '4 KiB text', value: Buffer.from(text.slice(0, 4096)), modes: ['lz4', 'raw'] },
  { name: '4 KiB random', value: randomBytes(4096), modes: ['lz4', 'raw'] },
];

let sink = 0;
const sizes = [];
const bench = new Bench({ time: Number(args['time-ms']) });
for (const { name, value, modes } of cases) {
  const item = { value, flags: 0, exptime: 0, cas: 1 };
  for (const mode of modes) {
    const options = MODES[mode];
    const record = await encodeRecord(item, options);
    const { compression } = decodeRecordHeader(record);
    sizes.push(`${name} ${mode}: ${record.length} B (${compression})`);
    bench.add(`encode ${name} ${mode}`, async () => {
      sink += (await encodeRecord(item, options)).length;
    });
    // When lz4 did not pay, the record is the raw one: decode it once, under its real format.
    const decodeName = `decode ${name} ${compression === 'lz4' ? 'lz4' : 'raw'}`;
    if (bench.getTask(decodeName) !== undefined) continue;
    bench.add(decodeName, async () => {
      sink += (await decodeRecord(record)).value.length;
    });
  }
}
await bench.run();
console.table(bench.table());
console.log(`records: ${sizes.join('; ')}`);
if (sink === 0.5) console.log(sink);
