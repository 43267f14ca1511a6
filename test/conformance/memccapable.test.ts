// libmemcached's memccapable as a ready-made conformance check: its 27 ASCII tests must all print
// [pass] against our server, as they do against memcached 1.6.18 (which runs first, proving the
// runner and the parser of memccapable's output).
// memccapable prints test names on stdout and verdicts on stderr, each block-buffered when piped, so
// it runs under `stdbuf -o0 -e0` with stderr merged into stdout to keep every name next to its verdict.

import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { MEMCCAPABLE_BIN, memccapableAvailable, toolAvailable } from '../helpers/memcached-process.js';
import { oracleAvailable, type RunningTarget, SELF_CHECK, startOracle, startOurs } from './targets.js';

const ASCII_TESTS = [
  'version',
  'quit',
  'verbosity',
  'set',
  'set noreply',
  'get',
  'gets',
  'mget',
  'flush',
  'flush noreply',
  'add',
  'add noreply',
  'replace',
  'replace noreply',
  'cas',
  'cas noreply',
  'delete',
  'delete noreply',
  'incr',
  'incr noreply',
  'decr',
  'decr noreply',
  'append',
  'append noreply',
  'prepend',
  'prepend noreply',
  'stat',
].map((name) => `ascii ${name}`);

interface Verdict {
  readonly test: string;
  readonly status: string;
  /** What memccapable printed between the name and the verdict (its error message, if any). */
  readonly detail: string;
}

/** Splits memccapable's merged output into one verdict per test name. */
function parseMemccapable(output: string): Verdict[] {
  const names = [...output.matchAll(/^((?:ascii|binary) [a-z ]+?) {2,}/gm)];
  return names.map((match, i) => {
    const from = (match.index ?? 0) + match[0].length;
    const to = names[i + 1]?.index ?? output.length;
    const body = output.slice(from, to);
    const verdicts = [...body.matchAll(/\[(pass|FAIL|skip)\]/g)];
    const last = verdicts.at(-1);
    return {
      test: match[1] ?? '',
      status: last?.[1] ?? 'no verdict',
      detail: (last === undefined ? body : body.slice(0, last.index)).trim(),
    };
  });
}

function stdbufAvailable(): boolean {
  try {
    accessSync('/usr/bin/stdbuf', constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function runMemccapable(target: RunningTarget): Promise<{ output: string; exitCode: number | null }> {
  const args = ['-h', target.host, '-p', String(target.port), '-a', '-t', '5'];
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', 'exec /usr/bin/stdbuf -o0 -e0 "$0" "$@" 2>&1', MEMCCAPABLE_BIN, ...args],
      { timeout: 120_000, encoding: 'utf8' },
      (error, stdout) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ output: stdout, exitCode: code });
      },
    );
  });
}

function report(verdicts: readonly Verdict[]): string {
  const bad = verdicts.filter((v) => v.status !== 'pass');
  return bad
    .map((v) => `${v.test}: ${v.status}${v.detail === '' ? '' : ` (${JSON.stringify(v.detail)})`}`)
    .join('\n');
}

describe('parsing memccapable output', () => {
  it('pairs each test with its verdict and keeps the error text', () => {
    const sample = [
      'ascii version                           [pass]',
      'ascii set                               [ERROR\r',
      ']',
      '[FAIL]',
      'ascii stat                              Errno: 110 Connection timed out',
      '[FAIL]',
      '1 of 3 tests failed',
    ].join('\n');
    expect(parseMemccapable(sample)).toEqual([
      { test: 'ascii version', status: 'pass', detail: '' },
      { test: 'ascii set', status: 'FAIL', detail: '[ERROR\r\n]' },
      { test: 'ascii stat', status: 'FAIL', detail: 'Errno: 110 Connection timed out' },
    ]);
    expect(report(parseMemccapable(sample))).toBe(
      'ascii set: FAIL ("[ERROR\\r\\n]")\nascii stat: FAIL ("Errno: 110 Connection timed out")',
    );
  });

  it('reports a test without a verdict', () => {
    expect(parseMemccapable('ascii quit                              ')).toEqual([
      { test: 'ascii quit', status: 'no verdict', detail: '' },
    ]);
  });
});

const memcachedThere = oracleAvailable('conformance/memccapable (memcached side)');
const toolsThere = toolAvailable(
  'conformance/memccapable',
  memccapableAvailable() && stdbufAvailable(),
  'libmemcached-tools coreutils',
);
const sides = [
  { name: 'memcached 1.6.18', runs: memcachedThere, start: startOracle },
  // In self-check mode "ours" is a memcached process too.
  { name: 'ours', runs: memcachedThere || !SELF_CHECK, start: startOurs },
] as const;

describe.skipIf(!toolsThere)('memccapable -a', () => {
  const running: RunningTarget[] = [];
  afterAll(async () => {
    await Promise.all(running.map((t) => t.close()));
  });

  for (const side of sides) {
    it.skipIf(!side.runs)(`passes all 27 ascii tests against ${side.name}`, async () => {
      const target = await side.start();
      running.push(target);
      const { output, exitCode } = await runMemccapable(target);
      const verdicts = parseMemccapable(output);
      expect(
        verdicts.map((v) => v.test),
        `tests memccapable ran:\n${output}`,
      ).toEqual(ASCII_TESTS);
      expect(report(verdicts), `failures against ${target.label}`).toBe('');
      expect(output).toContain('All tests passed');
      expect(exitCode).toBe(0);
    });
  }
});
