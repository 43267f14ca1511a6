// Imports only point down: protocol/ knows nothing of the rest of the
// project, and storage knows nothing of wire formats or sockets.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

function projectImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gms)].map(
    (m) => m[1] ?? '',
  );
  return specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(SRC, resolve(join(file, '..'), s)).replace(/\.js$/, ''));
}

function importsOf(layer: string): Array<[string, string]> {
  return sourceFiles(join(SRC, layer)).flatMap((file) =>
    projectImports(file).map((target): [string, string] => [relative(SRC, file), target]),
  );
}

describe('layering', () => {
  it('protocol/ imports nothing outside protocol/', () => {
    const outside = importsOf('protocol').filter(([, target]) => !target.startsWith('protocol/'));
    expect(outside).toEqual([]);
  });

  it('tiers/ import neither protocol/ nor server/', () => {
    const wrong = importsOf('tiers').filter(([, target]) => /^(protocol|server)\//.test(target));
    expect(wrong).toEqual([]);
  });

  it('core/ imports neither protocol/ nor server/', () => {
    const wrong = importsOf('core').filter(([, target]) => /^(protocol|server)\//.test(target));
    expect(wrong).toEqual([]);
  });
});
