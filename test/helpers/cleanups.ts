// Per-test clean-up, registered before anything is started (convention 11):
// servers, clients and temp directories are undone after each test, newest first.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

export type Cleanup = () => Promise<void> | void;

/** A list to push clean-ups to; an afterEach hook runs them in reverse order. */
export function useCleanups(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

/** A fresh directory under the OS temp dir, removed after the test. */
export function makeTempDir(cleanups: Cleanup[], prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
