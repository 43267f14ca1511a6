// bench/floor-responder.mjs is the load bench's `floor` target: its figures are only a floor if it
// answers the bench's requests as memcached would, byte for byte, however they are cut.

import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { killIfRunning, startListeningScript } from '../helpers/child-server.js';
import { endsAt, RawClient, type SplitMode } from '../helpers/raw-client.js';

const SCRIPT = fileURLToPath(new URL('../../bench/floor-responder.mjs', import.meta.url));

let child: ChildProcess | undefined;
afterEach(() => {
  if (child !== undefined) killIfRunning(child);
  child = undefined;
});

async function startFloor(): Promise<number> {
  const server = await startListeningScript(SCRIPT, ['--port', '0'], (spawned) => {
    child = spawned;
  });
  return server.port;
}

describe('floor responder', () => {
  for (const mode of ['whole', 'bytes', { chunkSize: 7 }] as SplitMode[]) {
    it(`answers set, multi-get, noreply and version in memcached's reply format (${JSON.stringify(mode)})`, async () => {
      const client = await RawClient.connect('127.0.0.1', await startFloor());
      try {
        await client.send(
          'set a 0 0 4\r\nabcd\r\nset b 5 0 4 noreply\r\nwxyz\r\nget a bb\r\nversion\r\n',
          mode,
        );
        const reply = await client.readReply(endsAt('VERSION floor\r\n'));
        expect(reply.data.toString('latin1')).toBe(
          'STORED\r\nVALUE a 0 4\r\nvvvv\r\nVALUE bb 0 4\r\nvvvv\r\nEND\r\nVERSION floor\r\n',
        );
      } finally {
        await client.close();
      }
    });
  }
});
