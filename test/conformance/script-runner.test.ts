// Tests of the conformance harness itself: how payloads are cut, how a step's reply is delimited and
// normalised, and that a comparison of two servers that really differ does report the difference.

import { afterAll, describe, expect, it } from 'vitest';
import { type MemcachedProcess, startMemcached } from '../helpers/memcached-process.js';
import { RawClient, splitPayload } from '../helpers/raw-client.js';
import { itemSizeScript } from './framing-scripts.js';
import {
  normalisedOutputs,
  replyLines,
  runScript,
  type StepOutcome,
  show,
  versionCommandsIn,
} from './script-runner.js';
import { oracleAvailable } from './targets.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const outcome = (output: string, extra: Partial<StepOutcome> = {}): StepOutcome => ({
  name: 'step',
  input: b(''),
  output: b(output),
  closed: false,
  timedOut: false,
  ...extra,
});

describe('splitPayload', () => {
  const payload = b('get a\r\nset b 0 0 1\r\nx\r\ntail');
  it('keeps a whole payload in one write', () => {
    expect(splitPayload(payload, 'whole').map(String)).toEqual([String(payload)]);
  });
  it('cuts after every LF in lines mode', () => {
    expect(splitPayload(payload, 'lines').map(String)).toEqual([
      'get a\r\n',
      'set b 0 0 1\r\n',
      'x\r\n',
      'tail',
    ]);
  });
  it('cuts into single bytes and fixed chunks', () => {
    expect(splitPayload(payload, 'bytes')).toHaveLength(payload.length);
    expect(splitPayload(payload, { chunkSize: 10 }).map((p) => p.length)).toEqual([10, 10, 7]);
    expect(Buffer.concat(splitPayload(payload, { chunkSize: 3 }))).toEqual(payload);
  });
  it('sends nothing for an empty payload and rejects a zero chunk size', () => {
    expect(splitPayload(b(''), 'bytes')).toEqual([]);
    expect(() => splitPayload(payload, { chunkSize: 0 })).toThrow(RangeError);
  });
});

describe('versionCommandsIn', () => {
  it('counts version command lines, with CR LF or bare LF, leading spaces and extra tokens', () => {
    expect(versionCommandsIn(b('version\r\nversion\n'))).toBe(2);
    expect(versionCommandsIn(b('get a\r\n  version extra\r\n'))).toBe(1);
  });
  it('ignores look-alikes that memcached would not run as version', () => {
    expect(versionCommandsIn(b('versions\r\nVERSION\r\nversion\ttab\r\nget version\r\nversion'))).toBe(0);
  });
});

describe('replyLines and normalisedOutputs', () => {
  it('steps over VALUE data blocks, even ones that look like replies', () => {
    const lines = [...replyLines(b('VALUE k 0 12\r\nVERSION 1\r\nx\r\nEND\r\n'))].map((l) => l.line);
    expect(lines).toEqual(['VALUE k 0 12', 'END']);
  });
  it('stops at an incomplete data block', () => {
    expect([...replyLines(b('VALUE k 0 5\r\nab'))]).toEqual([]);
  });
  it('numbers CAS values by first appearance across the steps of a run', () => {
    const out = normalisedOutputs([
      outcome('VALUE a 1 1 900\r\nx\r\nVALUE b 0 1 77\r\ny\r\nEND\r\n'),
      outcome('STORED\r\nVALUE a 1 1 900\r\nx\r\nVALUE a 1 1 1000\r\nz\r\nEND\r\n'),
    ]);
    expect(out).toEqual([
      'VALUE a 1 1 <cas#1>\r\nx\r\nVALUE b 0 1 <cas#2>\r\ny\r\nEND\r\n',
      'STORED\r\nVALUE a 1 1 <cas#1>\r\nx\r\nVALUE a 1 1 <cas#3>\r\nz\r\nEND\r\n',
    ]);
  });
  it('numbers the c flag of meta replies with the same counter and steps over VA data', () => {
    const out = normalisedOutputs([
      outcome('VALUE a 0 1 42\r\nx\r\nEND\r\nHD c42 kmk O1\r\n'),
      outcome('VA 9 c7 f1\r\nHD c99 x\r\nMN\r\n'),
    ]);
    expect(out).toEqual([
      'VALUE a 0 1 <cas#1>\r\nx\r\nEND\r\nHD c<cas#1> kmk O1\r\n',
      'VA 9 c<cas#2> f1\r\nHD c99 x\r\nMN\r\n',
    ]);
  });
  it('leaves get replies (no CAS) alone and marks closes and timeouts', () => {
    expect(
      normalisedOutputs([
        outcome('VALUE a 5 2\r\n12\r\nEND\r\n'),
        outcome('STORED\r\n', { closed: true }),
        outcome('', { timedOut: true }),
      ]),
    ).toEqual(['VALUE a 5 2\r\n12\r\nEND\r\n', 'STORED\r\n<closed>', '<timeout>']);
  });
  it('shows bytes escaped and bounded', () => {
    expect(show('a\r\n\u0001')).toBe('"a\\r\\n\\u0001"');
    expect(show('x'.repeat(10), 4)).toBe('"xxxx…(10 bytes)"');
  });
});

const available = oracleAvailable('conformance/script-runner');

describe.skipIf(!available)('against live memcached processes', () => {
  const procs: MemcachedProcess[] = [];
  const clients: RawClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(procs.map((p) => p.stop()));
  });

  it('reads a reply up to a terminator, and a close as a close', async () => {
    const mc = await startMemcached();
    procs.push(mc);
    const client = await RawClient.connect(mc.host, mc.port);
    clients.push(client);
    await client.send('set k 0 0 1\r\nx\r\nget k\r\n', 'bytes');
    expect(String((await client.readUntil('END\r\n')).data)).toBe('STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n');
    await client.send('quit\r\n');
    const closed = await client.readUntilClosed();
    expect(closed).toMatchObject({ closed: true, timedOut: false });
    expect(closed.data).toHaveLength(0);
  });

  it('stop() ends the process: its port refuses connections afterwards', async () => {
    const mc = await startMemcached();
    await mc.stop();
    await expect(RawClient.connect(mc.host, mc.port)).rejects.toThrow(/ECONNREFUSED/);
    await mc.stop();
  });

  it('reports a difference between servers that really differ (-I 1m vs -I 2m)', async () => {
    const [small, large] = await Promise.all([startMemcached(), startMemcached({ extraArgs: ['-I', '2m'] })]);
    procs.push(small, large);
    const steps = itemSizeScript.steps;
    const a = normalisedOutputs(await runScript(small, steps, 'whole'));
    const z = normalisedOutputs(await runScript(large, steps, 'whole'));
    const differing = steps.filter((_, i) => a[i] !== z[i]).map((s) => s.name);
    expect(differing).toEqual([
      'one byte past the limit (data swallowed, old item unlinked)',
      'exactly 1 MiB',
      'past the limit noreply',
    ]);
  });
});
