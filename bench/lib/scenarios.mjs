// The load scenarios, as data. Adding one (s5 binary protocol) means adding a row here and, for a
// new protocol, a request builder in request-pool.mjs and a reply scanner; the runner in load.mjs
// only reads these fields. A scenario that needs other servers than `--targets` (s6: rat with L2,
// memcached with and without extstore) lists them itself.

/**
 * @typedef {object} Scenario
 * @property {string} id
 * @property {string} title
 * @property {'text'} protocol     wire protocol of requests and replies
 * @property {number} keyCount     distinct keys, all pre-loaded before the first round; a scenario
 *   sized by `dataGiB` leaves it out and sizeScenario computes it
 * @property {{ full: number, quick: number }} [dataGiB]  data set size instead of a keyCount:
 *   `quick` under --quick, `full` otherwise, --data-gib beats both
 * @property {number} valueBytes   size of every stored value
 * @property {number} getFraction  share of requests that are gets; the rest are sets
 * @property {number} keysPerGet   1 for `get k`, >1 for a multi-get `get k1 ... kn`
 * @property {number} connections
 * @property {number} depth        requests per batch per connection (1 = no pipelining)
 * @property {'constant' | 'compressible' | 'incompressible'} [values]  pre-loaded value bytes
 *   (bulk-loader.mjs valueSet; default constant)
 * @property {number} [memoryMiB]  the memory limit (-m) this scenario is about; beats --memory
 * @property {{ keysFirst?: boolean, syncPauseMs?: number }} [preload]  how every target is
 *   pre-loaded: keysFirst writes every key with a 1-byte value before the real values;
 *   syncPauseMs paces the real values (bulk-loader.mjs)
 * @property {ScenarioTarget[]} [targets]  the servers to compare, in place of --targets; the
 *   ratio columns are the first over the second
 */

/**
 * @typedef {object} ScenarioTarget
 * @property {'rat' | 'memcached'} name
 * @property {string} [label]  row name when `name` alone would be ambiguous
 * @property {string[]} args   extra start-up flags; `{tmp}` stands for the scenario's fresh
 *   temporary directory (load.mjs creates it and removes it afterwards)
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
  {
    // The L2-heavy read: 16x more data than L1 holds. Random bytes, so LZ4 cannot shrink
    // rat's L2 to a few pages of a constant value when memcached's flash tier stores every byte.
    // memcached+ext keeps few keys after this fast load: the 4 KiB class takes 63 of the 64 slab
    // pages before extstore has written much, and the one page left to the 96-byte class holds
    // 10,922 item headers (`stats slabs`); the other headers, and their flash copies, are evicted.
    id: 's6',
    title: '4 KiB values over a 64 MiB L1, uniform random get, depth 1',
    protocol: 'text',
    dataGiB: { full: 1, quick: 0.125 },
    values: 'incompressible',
    valueBytes: 4096,
    getFraction: 1,
    keysPerGet: 1,
    connections: 50,
    depth: 1,
    memoryMiB: 64,
    // memcached+ext holds every key only if the load lets it: its flusher must keep up
    // (ext_item_age=0 flushes as soon as it can, and the pauses give it time), and the 96-byte
    // slab class that keeps the headers of flushed items in RAM must already own its pages. Left
    // to slab_automove (30 s windows) it starts with one page, 10,922 headers, and a fast load
    // leaves it answering 6-9% of reads. Writing every key small first gives that class its 25
    // pages. Every target gets the same load.
    preload: { keysFirst: true, syncPauseMs: 60 },
    targets: [
      { name: 'rat', args: ['--data-dir', '{tmp}/rat-data'] },
      {
        name: 'memcached',
        label: 'memcached+ext',
        args: ['-o', 'ext_path={tmp}/extstore:2G,ext_item_age=0'],
      },
      { name: 'memcached', args: [] },
    ],
  },
]);

/**
 * The scenario at the size this run uses: one sized by `dataGiB` gets its keyCount (and the size
 * in its title) from `dataGiB` (--data-gib), else its quick or full size.
 * @param {Scenario} scenario
 * @param {{ quick: boolean, dataGiB?: number | undefined }} opts
 * @returns {Scenario}
 */
export function sizeScenario(scenario, opts) {
  if (scenario.dataGiB === undefined) return scenario;
  const gib = opts.dataGiB ?? (opts.quick ? scenario.dataGiB.quick : scenario.dataGiB.full);
  const keyCount = Math.round((gib * 1024 ** 3) / scenario.valueBytes);
  if (!(keyCount >= 1)) throw new Error(`--data-gib ${gib} leaves ${scenario.id} without a key`);
  return { ...scenario, keyCount, title: `${scenario.title}, ${gib} GiB` };
}

export function findScenario(id) {
  const s = scenarios.find((x) => x.id === id);
  if (s === undefined) {
    throw new Error(`unknown scenario ${id}; known: ${scenarios.map((x) => x.id).join(', ')}`);
  }
  return s;
}
