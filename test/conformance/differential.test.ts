// Differential test: every scripted step is sent to the Debian memcached 1.6.18 and to ours, and the
// full replies must be byte-for-byte equal. Memcached's reply at test time is the truth; nothing here
// hard-codes an expected reply except the few facts about memcached itself checked at the end.
// CAS numbers in gets/gats replies are normalised (each distinct number becomes <cas#n> by order of
// first appearance in the run), since only the counter behind them differs between servers.
// Each script runs whole, one write per line, and byte by byte (or in chunks where memcached's own
// answer depends on how many bytes one read returns; see framing-scripts.ts).

import { describe, expect, it } from 'vitest';
import type { SplitMode } from '../helpers/raw-client.js';
import {
  adminScript,
  closingScript,
  errorsScript,
  itemSizeScript,
  LARGEST_VALUE_FOR_BIG_KEY,
  longGetScript,
  longLineScript,
} from './framing-scripts.js';
import { describeInput, normalisedOutputs, runScript, show } from './script-runner.js';
import { oracleAvailable, SELF_CHECK, useOracleAndOurs } from './targets.js';
import {
  arithmeticScript,
  casScript,
  quirksScript,
  retrievalScript,
  type Script,
  storageScript,
  touchDeleteFlushScript,
} from './text-scripts.js';

const SCRIPTS: readonly Script[] = [
  storageScript,
  casScript,
  arithmeticScript,
  touchDeleteFlushScript,
  retrievalScript,
  quirksScript,
  errorsScript,
  adminScript,
  itemSizeScript,
  longGetScript,
  longLineScript,
  closingScript,
];

function modeName(mode: SplitMode): string {
  return typeof mode === 'string' ? mode : `chunks of ${mode.chunkSize}`;
}

const available = oracleAvailable('conformance/differential');

describe.skipIf(!available)(
  `text protocol: ${SELF_CHECK ? 'memcached (self-check)' : 'ours'} vs memcached 1.6.18`,
  () => {
    const { sides, track } = useOracleAndOurs();

    it('has at least 80 scripted steps with unique names per script', () => {
      const total = SCRIPTS.reduce((n, s) => n + s.steps.length, 0);
      expect(total).toBeGreaterThanOrEqual(80);
      for (const script of SCRIPTS) {
        const names = script.steps.map((s) => s.name);
        expect(new Set(names).size, script.name).toBe(names.length);
      }
    });

    for (const script of SCRIPTS) {
      for (const mode of script.modes) {
        it(`${script.name} [${modeName(mode)}]`, async () => {
          const [theirSide, ourSide] = sides();
          const theirs = normalisedOutputs(await runScript(theirSide, script.steps, mode, { track }));
          const mine = normalisedOutputs(await runScript(ourSide, script.steps, mode, { track }));
          const mismatches: string[] = [];
          script.steps.forEach((s, i) => {
            if (theirs[i] === mine[i]) return;
            mismatches.push(
              [
                `step "${s.name}"`,
                `  input:     ${show(describeInput(s))}`,
                `  memcached: ${show(theirs[i] ?? '<missing>')}`,
                `  ours:      ${show(mine[i] ?? '<missing>')}`,
              ].join('\n'),
            );
          });
          expect(mismatches, `${mismatches.length} of ${script.steps.length} steps differ`).toEqual([]);
        });
      }
    }

    it('memcached itself: the item-size boundary in framing-scripts.ts is still the real one', async () => {
      const [theirSide] = sides();
      const out = normalisedOutputs(
        await runScript(theirSide, itemSizeScript.steps.slice(0, 3), 'whole', { track }),
      );
      expect(out[1]?.startsWith(`STORED\r\nVALUE big 0 ${LARGEST_VALUE_FOR_BIG_KEY}\r\n`)).toBe(true);
      expect(out[2]).toBe('SERVER_ERROR object too large for cache\r\nEND\r\n');
    });

    it('memcached itself: the sentinel sees VERSION lines inside a step', async () => {
      const [theirSide] = sides();
      const out = normalisedOutputs(
        await runScript(theirSide, [{ name: 'two versions', send: 'version\r\nversion\n' }], 'bytes', {
          track,
        }),
      );
      expect(out).toEqual(['VERSION 1.6.18\r\nVERSION 1.6.18\r\n']);
    });
  },
);
