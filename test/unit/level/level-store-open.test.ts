import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { describe, expect, it } from 'vitest';
import { LevelOpenError } from '../../../src/tiers/level/level-errors.js';
import { auxKey, META_KEY } from '../../../src/tiers/level/level-keys.js';
import { LevelStore } from '../../../src/tiers/level/level-store.js';
import { onCleanup, openStore, tempDir } from './level-fixtures.js';

async function openError(dir: string): Promise<LevelOpenError> {
  const error = await LevelStore.open(dir, { maxBytes: 1000 }).then(
    async (store) => {
      await store.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LevelOpenError);
  const open = error as LevelOpenError;
  expect(open.code).toBe('RAT_ERR_L2_OPEN');
  expect(open.message).not.toContain('\n');
  expect(open.context).toMatchObject({ dir });
  return open;
}

describe('LevelStore.open failures', () => {
  it('reports a directory already open in this process as locked', async () => {
    const dir = await tempDir();
    await openStore(dir);
    const error = await openError(dir);
    expect(error.message).toMatch(/is locked by another process/);
    expect(error.context).toMatchObject({ levelCode: 'LEVEL_LOCKED' });
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('reports a directory held by another process as locked', async () => {
    const dir = await tempDir();
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { ClassicLevel } from 'classic-level';
         const db = new ClassicLevel(process.argv[1]);
         await db.open();
         process.stdout.write('ready\\n');
         process.stdin.resume();
         process.stdin.on('end', () => db.close().then(() => process.exit(0)));`,
        dir,
      ],
      { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] },
    );
    onCleanup(async () => {
      if (holder.exitCode === null) {
        const exited = new Promise((resolve) => holder.once('exit', resolve));
        holder.kill();
        await exited;
      }
    });
    await new Promise<void>((resolve, reject) => {
      holder.once('exit', (code) => reject(new Error(`lock holder exited early with ${code}`)));
      holder.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
    });
    const error = await openError(dir);
    expect(error.message).toMatch(/is locked by another process/);
  });

  it('refuses a directory whose CURRENT file is junk', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'CURRENT'), 'this is not a manifest name\n');
    const error = await openError(dir);
    expect(error.message).toMatch(/is not a readable LevelDB/);
  });

  it('refuses a non-empty directory that holds no LevelDB', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.txt'), 'precious user data');
    await mkdir(join(dir, 'photos'));
    const error = await openError(dir);
    expect(error.message).toMatch(/is not a LevelDB \(no CURRENT file, holds 2 other file\(s\)/);
  });

  it('refuses a path that is a file', async () => {
    const dir = await tempDir();
    const file = join(dir, 'plain-file');
    await writeFile(file, 'x');
    const error = await openError(file);
    expect(error.message).toMatch(/is not a directory/);
  });

  it('refuses a LevelDB written by someone else, even with clearOnOpen', async () => {
    const dir = await tempDir();
    const other = new ClassicLevel(dir);
    await other.open();
    await other.put('hello', 'world');
    await other.close();
    const error = await openError(dir);
    expect(error.message).toMatch(/not a rat-memcached L2 store/);
    await expect(LevelStore.open(dir, { maxBytes: 1000, clearOnOpen: true })).rejects.toThrow(
      /not a rat-memcached L2 store/,
    );
    const reread = new ClassicLevel(dir);
    await reread.open();
    expect(await reread.get('hello')).toBe('world');
    await reread.close();
  });

  it('refuses a store in the older format (records inside LevelDB), and clears it with clearOnOpen', async () => {
    const dir = await tempDir();
    const old = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await old.open();
    // Format 1's meta (same layout: version, nextSeq, items, bytes, evictFromSeq) and one record.
    const meta = Buffer.alloc(33);
    meta[0] = 1;
    meta.writeUInt32BE(42, 5);
    meta.writeUInt32BE(1, 13);
    meta.writeUInt32BE(20, 21);
    await old.put(META_KEY, meta);
    await old.put(Buffer.from('\x01key', 'latin1'), Buffer.alloc(20));
    await old.put(auxKey('cas'), Buffer.from('kept'));
    await old.close();

    const error = await openError(dir);
    expect(error.message).toMatch(/older rat-memcached L2 format \(1, now 2\).*clear_on_startup/);
    const store = await openStore(dir, { clearOnOpen: true });
    expect(store.stats()).toMatchObject({ items: 0, bytes: 0 });
    expect((await store.getAux('cas'))?.toString()).toBe('kept');
    await store.put(Buffer.from('new'), Buffer.from('record'));
    await store.close();
    // Seqs keep rising past the old store's (order keys never repeat).
    const raw = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await raw.open();
    const seqs = (await raw.keys({ gte: Buffer.from([0x02]), lt: Buffer.from([0x03]) }).all()).map((k) =>
      k.readUInt32BE(5),
    );
    await raw.close();
    expect(seqs).toEqual([42]);
  });

  it('creates a missing directory, and reopens an empty store', async () => {
    const dir = join(await tempDir(), 'nested', 'l2');
    const store = await openStore(dir);
    await store.close();
    const again = await openStore(dir);
    expect(again.stats()).toMatchObject({ items: 0, bytes: 0 });
  });

  it('honours createIfMissing: false', async () => {
    const dir = join(await tempDir(), 'absent');
    const error = await LevelStore.open(dir, { maxBytes: 1000, createIfMissing: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LevelOpenError);
  });
});
