// Differential test of exptime edge cases: each value is used by set, touch
// and gat on the Debian memcached 1.6.18 and on ours, and the replies must be
// byte-for-byte equal. Every step reads back right after storing, so its
// outcome is immediate (no sleeps): 0, 2592000 (30 days, still relative) and
// a future absolute time are served; -1, 2592001 (absolute: 1970) and past
// absolute times are gone at once; 1 is still served within the same second,
// as in memcached, whose clock has 1 s resolution. Absolute times are taken
// from the wall clock when the step is sent (both servers use it).

import { describe, expect, it } from 'vitest';
import { describeInput, normalisedOutputs, runScript, type Step, show } from './script-runner.js';
import { oracleAvailable, SELF_CHECK, useOracleAndOurs } from './targets.js';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Edge values; functions are evaluated when the step is sent. */
const EXPTIMES: ReadonlyArray<readonly [string, () => number]> = [
  ['0 (never)', () => 0],
  ['-1 (already expired)', () => -1],
  ['1 (one second)', () => 1],
  ['2592000 (30 days, relative)', () => 2_592_000],
  ['2592001 (absolute, 1970)', () => 2_592_001],
  ['an absolute time an hour ago', () => nowSeconds() - 3600],
  ['an absolute time 10 s ago', () => nowSeconds() - 10],
  ['an absolute time an hour ahead', () => nowSeconds() + 3600],
];

function stepsFor(label: string, exptime: () => number, n: number): Step[] {
  const key = `e${n}`;
  return [
    { name: `set ${label}, get`, send: () => `set ${key} 7 ${exptime()} 2\r\nhi\r\nget ${key}\r\n` },
    {
      name: `touch ${label}, get`,
      send: () => `set ${key} 7 0 2\r\nhi\r\ntouch ${key} ${exptime()}\r\nget ${key}\r\n`,
    },
    {
      name: `gat ${label}, get`,
      send: () => `set ${key} 7 0 2\r\nhi\r\ngat ${exptime()} ${key}\r\nget ${key}\r\n`,
    },
    {
      name: `add over ${label}`,
      send: () => `set ${key} 7 ${exptime()} 2\r\nhi\r\nadd ${key} 1 0 1\r\nx\r\n`,
    },
  ];
}

const STEPS: readonly Step[] = [
  { name: 'start from an empty cache', send: 'flush_all\r\n' },
  ...EXPTIMES.flatMap(([label, exptime], n) => stepsFor(label, exptime, n)),
];

const available = oracleAvailable('conformance/exptime');

describe.skipIf(!available)(`exptime edge cases: ${SELF_CHECK ? 'self-check' : 'ours'} vs memcached`, () => {
  const { sides, track } = useOracleAndOurs();

  for (const mode of ['whole', 'lines'] as const) {
    it(`set, touch, gat and add agree step by step [${mode}]`, async () => {
      const [oracle, ours] = sides();
      const theirs = normalisedOutputs(await runScript(oracle, STEPS, mode, { track }));
      const mine = normalisedOutputs(await runScript(ours, STEPS, mode, { track }));
      const mismatches: string[] = [];
      STEPS.forEach((s, i) => {
        if (theirs[i] === mine[i]) return;
        mismatches.push(
          `step "${s.name}"\n  input:     ${show(describeInput(s))}\n` +
            `  memcached: ${show(theirs[i] ?? '<missing>')}\n  ours:      ${show(mine[i] ?? '<missing>')}`,
        );
      });
      expect(mismatches, `${mismatches.length} of ${STEPS.length} steps differ`).toEqual([]);
    });
  }

  it('memcached itself: which edge values are served right after storing', async () => {
    const [oracle] = sides();
    const out = normalisedOutputs(await runScript(oracle, STEPS, 'whole', { track }));
    const servedAfterSet = EXPTIMES.map(([label], n) => [label, out[1 + n * 4]?.includes('VALUE') ?? false]);
    expect(Object.fromEntries(servedAfterSet)).toEqual({
      '0 (never)': true,
      '-1 (already expired)': false,
      '1 (one second)': true,
      '2592000 (30 days, relative)': true,
      '2592001 (absolute, 1970)': false,
      'an absolute time an hour ago': false,
      'an absolute time 10 s ago': false,
      'an absolute time an hour ahead': true,
    });
  });
});
