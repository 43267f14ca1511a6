#!/usr/bin/env node
// The floor: the least a Node server on rat-memcached's own socket layer does per request. It
// accepts through the direct transport (dist/server/direct-transport.js), renders into the same
// OutputBuffer and writes each batch with one write, but keeps no cache: every `get` key is
// answered with one value as long as the last `set` it saw (all the load scenarios use one value
// size), and every `set` with STORED once its data has arrived. What a load scenario measures
// here is Node's and the kernel's cost per request; what rat-memcached spends beyond it is its
// parser, L1 and rendering. Run by the load bench as the `floor` target:
//
//   node bench/load.mjs --scenarios s1,s3 --targets floor,memcached
//   node bench/load.mjs --scenarios s1,s3 --targets rat,floor
//
//   node bench/floor-responder.mjs --port 11311 [--host 127.0.0.1]
//
// It answers only what the benches send (get/gets with any number of keys, set with or without
// noreply, version, stats); anything else is ERROR. Not a server: it forgets every value.

import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const DIST = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const { acceptDirect, DirectTransport, loadDirectIo } = await import(
  path.join(DIST, 'server/direct-transport.js')
);
const { OutputBuffer } = await import(path.join(DIST, 'protocol/output-buffer.js'));
const { parseI32 } = await import(path.join(DIST, 'protocol/text/numbers.js'));

const { values: args } = parseArgs({
  options: { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } },
});
if (args.port === undefined) throw new Error('--port is required');

const LF = 0x0a;
const SPACE = 0x20;
const latin1 = (text) => Buffer.from(text, 'latin1');
const VALUE_PREFIX = latin1('VALUE ');
const CRLF = latin1('\r\n');
const END = latin1('END\r\n');
const STORED = latin1('STORED\r\n');
const ERROR = latin1('ERROR\r\n');
const VERSION = latin1('VERSION floor\r\n');
const EMPTY = Buffer.alloc(0);

/** The value every get answers with; its header suffix (` 0 <length>\r\n`) is made once per size. */
let value = Buffer.alloc(0);
let valueSuffix = latin1(' 0 0\r\n');
function setValueLength(length) {
  if (length === value.length) return;
  value = Buffer.alloc(length, 0x76);
  valueSuffix = latin1(` 0 ${length}\r\n`);
}

function tokenIs(buf, start, end, text) {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (buf[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Answers the complete requests in buf[start, end); returns the offset of the first incomplete one. */
function answer(buf, start, end, out) {
  let at = start;
  while (at < end) {
    const newline = buf.indexOf(LF, at);
    if (newline < 0 || newline >= end) break;
    const lineEnd = buf[newline - 1] === 0x0d ? newline - 1 : newline;
    let cmdEnd = at;
    while (cmdEnd < lineEnd && buf[cmdEnd] !== SPACE) cmdEnd++;
    if (tokenIs(buf, at, cmdEnd, 'get') || tokenIs(buf, at, cmdEnd, 'gets')) {
      for (let k = cmdEnd; k < lineEnd; ) {
        while (k < lineEnd && buf[k] === SPACE) k++;
        const keyStart = k;
        while (k < lineEnd && buf[k] !== SPACE) k++;
        if (k === keyStart) break;
        out.writeBytes(VALUE_PREFIX);
        out.writeRange(buf, keyStart, k);
        out.writeBytes(valueSuffix);
        out.writeBytes(value);
        out.writeBytes(CRLF);
      }
      out.writeBytes(END);
      at = newline + 1;
    } else if (tokenIs(buf, at, cmdEnd, 'set')) {
      // set <key> <flags> <exptime> <bytes> [noreply]: the 4th token after the command is the
      // length, a 5th may be noreply. Walked in place: no token list, no string per request.
      let tokens = 0;
      let length = -1;
      let noreply = false;
      for (let k = cmdEnd; k < lineEnd; ) {
        while (k < lineEnd && buf[k] === SPACE) k++;
        const tokenStart = k;
        while (k < lineEnd && buf[k] !== SPACE) k++;
        if (k === tokenStart) break;
        tokens++;
        if (tokens === 4) length = parseI32(buf, tokenStart, k) ?? -1;
        noreply = tokens === 5 && tokenIs(buf, tokenStart, k, 'noreply');
      }
      if (length < 0) {
        out.writeBytes(ERROR);
        at = newline + 1;
        continue;
      }
      const dataEnd = newline + 1 + length + 2;
      if (dataEnd > end) break;
      setValueLength(length);
      if (!noreply) out.writeBytes(STORED);
      at = dataEnd;
    } else if (tokenIs(buf, at, cmdEnd, 'version')) {
      out.writeBytes(VERSION);
      at = newline + 1;
    } else if (tokenIs(buf, at, cmdEnd, 'stats')) {
      out.writeBytes(END);
      at = newline + 1;
    } else {
      out.writeBytes(ERROR);
      at = newline + 1;
    }
  }
  return at;
}

class FloorConnection {
  #transport;
  #out = new OutputBuffer();
  /** A partial request carried over to the next read (the transport's buffer is reused). */
  #pending = EMPTY;

  constructor(transport) {
    this.#transport = transport;
    transport.start(this);
  }

  onData(chunk, length) {
    let buf = chunk;
    let end = length;
    if (this.#pending.length > 0) {
      buf = Buffer.concat([this.#pending, chunk.subarray(0, length)]);
      end = buf.length;
    }
    const consumed = answer(buf, 0, end, this.#out);
    this.#pending = consumed < end ? Buffer.from(buf.subarray(consumed, end)) : EMPTY;
    const out = this.#out;
    if (out.length > 0 && this.#transport.write(out.take())) out.reuseTaken();
  }

  onDrain() {}

  onEnd() {
    this.#transport.end();
  }

  onClose() {}
}

const io = loadDirectIo();
if (io === null) throw new Error('this Node has no direct TCP bindings: the floor would not be the floor');
const server = net.createServer();
server.listen(Number(args.port), args.host, () => {
  if (!acceptDirect(server, (handle) => new FloorConnection(new DirectTransport(io, handle)))) {
    throw new Error('the listening handle is not the one the direct transport expects');
  }
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
