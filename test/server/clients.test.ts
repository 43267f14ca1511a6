// Real Node clients against our server: the `memcached` package (3rd-Eden) and `memcache-client`
// (Walmart/electrode). Each runs the commands an application uses, binary values where the client
// supports them, multi-get, a 100 KB value, many operations in flight at once, and a missing key.
// Expectations are what each client returns against memcached 1.6.18 (checked with
// RAT_CONFORMANCE_SELF_CHECK=1, which points "ours" at a second memcached).

import { MemcacheClient, type MultiCasRetrievalResponse, type MultiRetrievalResponse } from 'memcache-client';
import Memcached from 'memcached';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningTarget, startOurs } from '../conformance/targets.js';

let server: RunningTarget | undefined;
afterAll(async () => {
  await server?.close();
});
beforeAll(async () => {
  server = await startOurs();
});
const location = (): string => {
  if (server === undefined) throw new Error('server did not start');
  return `${server.host}:${server.port}`;
};

// Bytes a text protocol must carry untouched: CR LF inside the value, NUL, and high bytes.
const BINARY = Buffer.from([0x00, 0x0d, 0x0a, 0x72, 0x61, 0x74, 0x0d, 0x0a, 0x00, 0xff, 0x80, 0x0a]);
const HUNDRED_KB = Buffer.alloc(100 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789');
const IN_FLIGHT = 300;

/** @types/memcached declares touch's callback without the result the client passes (true/false). */
type TouchCallback = (err: unknown) => void;

/** Turns a 3rd-Eden callback call into a promise. */
function call<T>(start: (cb: (err: unknown, result: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start((err, result) => (err ? reject(err) : resolve(result)));
  });
}

describe('memcached (3rd-Eden) client', () => {
  let mc: Memcached | undefined;
  afterEach(() => {
    mc?.end();
    mc = undefined;
  });
  const client = (): Memcached => {
    // `retries` only covers pulling a pooled connection while the pool is still connecting (with 300
    // commands issued at once); failures 0 keeps a server error from being retried into a timeout.
    // minTimeout/maxTimeout (the pool's retry back-off) are read by the client but missing from @types.
    const options: Memcached.options & { minTimeout: number; maxTimeout: number } = {
      retries: 5,
      minTimeout: 10,
      maxTimeout: 100,
      failures: 0,
      timeout: 5_000,
      poolSize: 4,
    };
    mc = new Memcached(location(), options);
    return mc;
  };

  it('set/get/add/replace/append/prepend/del', async () => {
    const c = client();
    expect(await call<boolean>((cb) => c.set('e:k', 'hello', 60, cb))).toBe(true);
    expect(await call((cb) => c.get('e:k', cb))).toBe('hello');
    await expect(call((cb) => c.add('e:k', 'again', 60, cb))).rejects.toThrow('Item is not stored');
    expect(await call<boolean>((cb) => c.add('e:new', 'first', 60, cb))).toBe(true);
    expect(await call<boolean>((cb) => c.replace('e:new', 'second', 60, cb))).toBe(true);
    await expect(call((cb) => c.replace('e:absent', 'x', 60, cb))).rejects.toThrow('Item is not stored');
    expect(await call<boolean>((cb) => c.append('e:k', ' world', cb))).toBe(true);
    expect(await call<boolean>((cb) => c.prepend('e:k', '>> ', cb))).toBe(true);
    expect(await call((cb) => c.get('e:k', cb))).toBe('>> hello world');
    expect(await call((cb) => c.get('e:new', cb))).toBe('second');
    expect(await call<boolean>((cb) => c.del('e:k', cb))).toBe(true);
    expect(await call<boolean>((cb) => c.del('e:k', cb))).toBe(false);
    expect(await call((cb) => c.get('e:k', cb))).toBeUndefined();
  });

  it('gets/cas, including a stale CAS', async () => {
    const c = client();
    await call((cb) => c.set('e:cas', 'v1', 60, cb));
    const first = await call<{ cas: string; [key: string]: unknown }>((cb) => c.gets('e:cas', cb));
    expect(first['e:cas']).toBe('v1');
    expect(first.cas).toMatch(/^\d+$/);
    expect(await call<boolean>((cb) => c.cas('e:cas', 'v2', first.cas, 60, cb))).toBe(true);
    expect(await call<boolean>((cb) => c.cas('e:cas', 'v3', first.cas, 60, cb))).toBe(false);
    const second = await call<{ cas: string; [key: string]: unknown }>((cb) => c.gets('e:cas', cb));
    expect(second['e:cas']).toBe('v2');
    expect(second.cas).not.toBe(first.cas);
  });

  it('incr/decr, touch, and a key that does not exist', async () => {
    const c = client();
    await call((cb) => c.set('e:n', '10', 60, cb));
    expect(await call((cb) => c.incr('e:n', 5, cb))).toBe(15);
    expect(await call((cb) => c.decr('e:n', 20, cb))).toBe(0);
    expect(await call((cb) => c.incr('e:missing', 1, cb))).toBe(false);
    expect(await call((cb) => c.touch('e:n', 100, cb as unknown as TouchCallback))).toBe(true);
    expect(await call((cb) => c.touch('e:missing', 100, cb as unknown as TouchCallback))).toBe(false);
    expect(await call((cb) => c.get('e:missing', cb))).toBeUndefined();
  });

  it('binary Buffers, a 100 KB value and getMulti', async () => {
    const c = client();
    expect(await call<boolean>((cb) => c.set('e:bin', BINARY, 60, cb))).toBe(true);
    expect(await call((cb) => c.get('e:bin', cb))).toEqual(BINARY);
    expect(await call<boolean>((cb) => c.set('e:big', HUNDRED_KB, 60, cb))).toBe(true);
    expect(await call((cb) => c.get('e:big', cb))).toEqual(HUNDRED_KB);
    await call((cb) => c.set('e:m1', 'one', 60, cb));
    await call((cb) => c.set('e:m2', { json: [1, 2] }, 60, cb));
    await call((cb) => c.set('e:m3', 3, 60, cb));
    const multi = await call((cb) => c.getMulti(['e:m1', 'e:m2', 'e:nope', 'e:m3'], cb));
    expect(multi).toEqual({ 'e:m1': 'one', 'e:m2': { json: [1, 2] }, 'e:m3': 3 });
  });

  it(`${IN_FLIGHT} operations in flight at once`, async () => {
    const c = client();
    const keys = Array.from({ length: IN_FLIGHT }, (_, i) => `e:many:${i}`);
    const stored = await Promise.all(
      keys.map((k, i) => call<boolean>((cb) => c.set(k, `value-${i}`, 60, cb))),
    );
    expect(stored.every((s) => s)).toBe(true);
    const values = await Promise.all(keys.map((k) => call((cb) => c.get(k, cb))));
    expect(values).toEqual(keys.map((_, i) => `value-${i}`));
  });
});

describe('memcache-client', () => {
  let mc: MemcacheClient | undefined;
  afterEach(() => {
    mc?.shutdown();
    mc = undefined;
  });
  const client = (maxConnections = 4): MemcacheClient => {
    mc = new MemcacheClient({ server: { server: location(), maxConnections }, cmdTimeout: 5_000 });
    return mc;
  };

  it('set/get/add/replace/append/prepend/delete', async () => {
    const c = client();
    expect(await c.set('w:k', 'hello')).toEqual(['STORED']);
    expect((await c.get<string>('w:k'))?.value).toBe('hello');
    await expect(c.add('w:k', 'again')).rejects.toThrow('NOT_STORED');
    expect(await c.add('w:new', 'first')).toEqual(['STORED']);
    expect(await c.replace('w:new', 'second')).toEqual(['STORED']);
    await expect(c.replace('w:absent', 'x')).rejects.toThrow('NOT_STORED');
    expect(await c.append('w:k', ' world')).toEqual(['STORED']);
    expect(await c.prepend('w:k', '>> ')).toEqual(['STORED']);
    expect((await c.get<string>('w:k'))?.value).toBe('>> hello world');
    expect(await c.delete('w:k')).toEqual(['DELETED']);
    await expect(c.delete('w:k')).rejects.toThrow('NOT_FOUND');
    expect(await c.get('w:k')).toBeUndefined();
  });

  it('gets/cas, including a stale CAS', async () => {
    const c = client();
    await c.set('w:cas', 'v1');
    const first = await c.gets<string>('w:cas');
    expect(first.value).toBe('v1');
    expect(await c.cas('w:cas', 'v2', { casUniq: first.casUniq })).toEqual(['STORED']);
    await expect(c.cas('w:cas', 'v3', { casUniq: first.casUniq })).rejects.toThrow('EXISTS');
    await expect(c.cas('w:absent', 'v', { casUniq: first.casUniq })).rejects.toThrow('NOT_FOUND');
    const second = await c.gets<string>('w:cas');
    expect(second.value).toBe('v2');
    expect(second.casUniq).not.toBe(first.casUniq);
  });

  it('incr/decr, touch, and a key that does not exist', async () => {
    const c = client();
    await c.set('w:n', '10');
    expect(await c.incr('w:n', 5)).toBe('15');
    expect(await c.decr('w:n', 20)).toBe('0');
    await expect(c.incr('w:missing', 1)).rejects.toThrow('NOT_FOUND');
    expect(await c.touch('w:n', 100)).toEqual(['TOUCHED']);
    await expect(c.touch('w:missing', 100)).rejects.toThrow('NOT_FOUND');
    expect(await c.get('w:missing')).toBeUndefined();
  });

  it('binary Buffers, a 100 KB value and multi-key get/gets', async () => {
    const c = client();
    expect(await c.set('w:bin', BINARY)).toEqual(['STORED']);
    expect((await c.get<Buffer>('w:bin'))?.value).toEqual(BINARY);
    expect(await c.set('w:big', HUNDRED_KB)).toEqual(['STORED']);
    expect((await c.get<Buffer>('w:big'))?.value).toEqual(HUNDRED_KB);
    await c.set('w:m1', 'one');
    await c.set('w:m2', { json: [1, 2] });
    const multi = await c.get<MultiRetrievalResponse>(['w:m1', 'w:m2', 'w:nope']);
    expect(Object.keys(multi).sort()).toEqual(['w:m1', 'w:m2']);
    expect(multi['w:m1']?.value).toBe('one');
    expect(multi['w:m2']?.value).toEqual({ json: [1, 2] });
    const withCas = await c.gets<MultiCasRetrievalResponse>(['w:m1', 'w:m2']);
    expect(String(withCas['w:m1']?.casUniq)).toMatch(/^\d+$/);
  });

  it(`${IN_FLIGHT} operations pipelined on one connection, with noreply sets mixed in`, async () => {
    // One connection: a noreply set has no reply to wait for, so only connection order guarantees
    // that the gets behind it see it.
    const c = client(1);
    const keys = Array.from({ length: IN_FLIGHT }, (_, i) => `w:many:${i}`);
    await Promise.all(keys.map((k, i) => c.set(k, `value-${i}`, i % 3 === 0 ? { noreply: true } : {})));
    const values = await Promise.all(keys.map((k) => c.get<string>(k)));
    expect(values.map((v) => v?.value)).toEqual(keys.map((_, i) => `value-${i}`));
  });
});
