// Crash safety of L2: a child server (the compiled bin, L1 of 2 MiB so most
// items live in LevelDB) is killed with SIGKILL at random moments while a
// client pipelines versioned writes. After every kill the server must start
// on the same directory (LevelDB opens, the meta record is readable), and
// every value it serves for a sample of keys must be exactly one the client
// wrote for that key: never torn, never corrupt, never another key's.
// Values are a pure function of (key index, seq), so "one that was written"
// means: parses as `<i>:<seq>:`, i is the key's index, 1 <= seq <= the last
// seq sent for that key, and the bytes equal versionedValue(i, seq).

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, killHard, killIfRunning, startChildServer } from '../helpers/child-server.js';
import { RawClient } from '../helpers/raw-client.js';

const DIST = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const KEYS = 6000;
const KILLS = 20;
const SAMPLE = 300;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
});

/** A small seeded PRNG (mulberry32), so a failing run can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The value written for key i at seq: lengths from 40 B to ~3 KiB so some are
 * LZ4-compressed (>= 512 B and repetitive) and some stored raw; the body
 * depends on both i and seq so a value of another key or version never matches.
 */
function versionedValue(i: number, seq: number): string {
  const head = `${i}:${seq}:`;
  const length = 40 + ((i * 7919 + seq * 104_729) % 3000);
  const unit = `${(i * 31 + seq).toString(36)}.`;
  return (head + unit.repeat(Math.ceil(length / unit.length))).slice(0, Math.max(length, head.length));
}

function startChild(dir: string): Promise<ChildServer> {
  return startChildServer(['-m', '2', '--data-dir', dir], (child) =>
    cleanups.push(() => killIfRunning(child)),
  );
}

/**
 * Pipelines `set ... noreply` of random keys until stopped or the server dies,
 * honouring socket backpressure. Records the last seq *sent* per key: a value
 * may be served after a crash even if its write was never acknowledged.
 */
class Writer {
  readonly #socket: Socket;
  readonly #lastSeq: Int32Array;
  readonly #random: () => number;
  #stopped = false;
  readonly done: Promise<void>;

  constructor(port: number, lastSeq: Int32Array, random: () => number) {
    this.#lastSeq = lastSeq;
    this.#random = random;
    this.#socket = createConnection({ host: '127.0.0.1', port });
    // The server is killed under us; a reset is the expected end.
    this.#socket.on('error', () => this.stop());
    this.#socket.on('close', () => this.stop());
    this.done = new Promise((resolve) => this.#socket.once('connect', () => resolve(this.#run())));
  }

  stop(): void {
    this.#stopped = true;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let chunk = '';
      for (let n = 0; n < 64; n++) {
        const i = Math.floor(this.#random() * KEYS);
        const seq = (this.#lastSeq[i] as number) + 1;
        this.#lastSeq[i] = seq;
        const value = versionedValue(i, seq);
        chunk += `set k${i} ${i} 0 ${value.length} noreply\r\n${value}\r\n`;
      }
      if (this.#socket.write(chunk, 'latin1')) {
        await new Promise((resolve) => setImmediate(resolve));
      } else {
        await new Promise<void>((resolve) => {
          const wake = () => {
            this.#socket.off('drain', wake);
            this.#socket.off('close', wake);
            resolve();
          };
          this.#socket.on('drain', wake);
          this.#socket.on('close', wake);
        });
      }
    }
    this.#socket.destroy();
  }
}

interface Checked {
  hits: number;
  problems: string[];
}

/** Reads a random sample of written keys and checks each served value against what was sent. */
async function checkSample(port: number, lastSeq: Int32Array, random: () => number): Promise<Checked> {
  const written: number[] = [];
  for (let i = 0; i < KEYS; i++) if ((lastSeq[i] as number) > 0) written.push(i);
  const sample = Array.from({ length: Math.min(SAMPLE, written.length) }, () =>
    Number(written[Math.floor(random() * written.length)]),
  );
  const client = await RawClient.connect('127.0.0.1', port);
  cleanups.push(() => void client.close());
  const problems: string[] = [];
  let hits = 0;
  for (let at = 0; at < sample.length; at += 50) {
    const batch = sample.slice(at, at + 50);
    await client.send(`get ${batch.map((i) => `k${i}`).join(' ')}\r\n`);
    const reply = await client.readUntil('END\r\n', 10_000);
    if (reply.timedOut || reply.closed) problems.push(`no complete reply to a get of ${batch.length} keys`);
    const text = reply.data.toString('latin1');
    const pattern = /VALUE k(\d+) (\d+) (\d+)\r\n/g;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const i = Number(match[1]);
      const flags = Number(match[2]);
      const start = match.index + match[0].length;
      const value = text.slice(start, start + Number(match[3]));
      pattern.lastIndex = start + value.length + 2;
      hits++;
      const seq = Number(/^(\d+):(\d+):/.exec(value)?.[2] ?? Number.NaN);
      const ok =
        value.startsWith(`${i}:`) &&
        flags === i &&
        seq >= 1 &&
        seq <= (lastSeq[i] as number) &&
        value === versionedValue(i, seq);
      if (!ok) problems.push(`k${i} (flags ${flags}) served ${JSON.stringify(value.slice(0, 60))}`);
    }
  }
  await client.close();
  return { hits, problems };
}

describe('L2 under SIGKILL', () => {
  it(`opens and serves only written values after each of ${KILLS} kills under write load`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rat-l2-crash-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const seed = Date.now() >>> 0;
    const random = prng(seed);
    const lastSeq = new Int32Array(KEYS);
    const hitsPerRestart: number[] = [];

    let server = await startChild(dir);
    for (let kill = 1; kill <= KILLS; kill++) {
      const writer = new Writer(server.port, lastSeq, random);
      // The first rounds write longer so L2 holds data early; later kills land anywhere.
      const delayMs = kill <= 2 ? 600 : 30 + Math.floor(random() * 400);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await killHard(server.child);
      writer.stop();
      await writer.done;

      server = await startChild(dir);
      const checked = await checkSample(server.port, lastSeq, random);
      expect(checked.problems, `seed ${seed}, after kill ${kill}`).toEqual([]);
      hitsPerRestart.push(checked.hits);
    }
    await killHard(server.child);
    // L1 dies with the process, so every hit after a restart came from LevelDB:
    // without them the checks above would prove nothing.
    expect(
      hitsPerRestart.every((hits) => hits > 0),
      `hits per restart ${hitsPerRestart}`,
    ).toBe(true);
  }, 90_000);
});
