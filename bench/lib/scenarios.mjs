// The load scenarios, as data. Adding one (s5 binary protocol, s6 L2-resident keys) means adding a
// row here and, for a new protocol, a request builder in request-pool.mjs and a reply scanner; the
// runner in load.mjs only reads these fields.

/**
 * @typedef {object} Scenario
 * @property {string} id
 * @property {string} title
 * @property {'text'} protocol     wire protocol of requests and replies
 * @property {number} keyCount     distinct keys, all pre-loaded before the first round
 * @property {number} valueBytes   size of every stored value
 * @property {number} getFraction  share of requests that are gets; the rest are sets
 * @property {number} keysPerGet   1 for `get k`, >1 for a multi-get `get k1 ... kn`
 * @property {number} connections
 * @property {number} depth        requests per batch per connection (1 = no pipelining)
 * @property {{ rat?: string[], memcached?: string[] }} [serverArgs]  extra start-up flags
 */

/** @type {readonly Scenario[]} */
export const scenarios = Object.freeze([
  {
    id: 's1',
    title: '32 B values, 90% get / 10% set, depth 1',
    protocol: 'text',
    keyCount: 10_000,
    valueBytes: 32,
    getFraction: 0.9,
    keysPerGet: 1,
    connections: 50,
    depth: 1,
  },
  {
    id: 's2',
    title: '32 B values, 90% get / 10% set, depth 16',
    protocol: 'text',
    keyCount: 10_000,
    valueBytes: 32,
    getFraction: 0.9,
    keysPerGet: 1,
    connections: 50,
    depth: 16,
  },
  {
    id: 's3',
    title: '4 KiB values, 50% get / 50% set, depth 1',
    protocol: 'text',
    keyCount: 10_000,
    valueBytes: 4096,
    getFraction: 0.5,
    keysPerGet: 1,
    connections: 50,
    depth: 1,
  },
  {
    id: 's4',
    title: '32 B values, 10-key multi-get, depth 1',
    protocol: 'text',
    keyCount: 10_000,
    valueBytes: 32,
    getFraction: 1,
    keysPerGet: 10,
    connections: 50,
    depth: 1,
  },
]);

export function findScenario(id) {
  const s = scenarios.find((x) => x.id === id);
  if (s === undefined) {
    throw new Error(`unknown scenario ${id}; known: ${scenarios.map((x) => x.id).join(', ')}`);
  }
  return s;
}
