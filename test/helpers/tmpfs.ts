// A tmpfs of a given size mounted over a directory, for tests of a full disk.
// Needs `mount -t tmpfs`, i.e. root (CI runs as root); a read-only chmod would
// be no fault at all for root.

import { execFileSync } from 'node:child_process';

/** Mounts the tmpfs over `dir` (which must exist); returns the unmount, for the test's cleanups. */
export function mountTmpfs(dir: string, sizeMiB: number): () => void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  return () => {
    execFileSync('umount', ['-l', dir]);
  };
}
