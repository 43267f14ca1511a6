// Summaries and the markdown table for load.mjs: medians over rounds per (scenario, target), and
// the ratio of the first target to the second (rat/memcached in a normal run, ~1.0 when
// memcached is compared with itself). Pure functions of the round results; no I/O.

export function median(values) {
  const v = values.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const METRICS = [
  'opsPerSec',
  'keysPerSec',
  'p50Us',
  'p99Us',
  'p999Us',
  'maxUs',
  'hitRatio',
  'generatorCpu',
  'serverCpu',
  'otherCpu',
];

/** @param {Array<Record<string, number | null>>} rounds */
export function summarize(rounds) {
  const out = {};
  for (const k of METRICS) out[k] = median(rounds.map((r) => r[k]));
  return out;
}

function fmtInt(x) {
  return x === null ? 'n/a' : Math.round(x).toLocaleString('en-US');
}
function fmtPct(x) {
  return x === null ? 'n/a' : `${Math.round(x * 100)}%`;
}
function fmtRatio(x) {
  return x === null || !Number.isFinite(x) ? '' : x.toFixed(2);
}

/**
 * @param {Array<{ scenario: { id: string, title: string }, targets: Array<{ label: string, summary: ReturnType<typeof summarize> }> }>} results
 */
export function markdownTable(results) {
  const head = [
    'scenario',
    'target',
    'ops/s',
    'p50 µs',
    'p99 µs',
    'p99.9 µs',
    'hit ratio',
    'server CPU',
    'generator CPU',
    'other CPU',
    'ops/s A/B',
    'p99 A/B',
    'round pairs A/B',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of results) {
    const q = ratios(r.targets);
    const ops = q?.opsPerSec ?? null;
    const p99 = q?.p99Us ?? null;
    const pairs = q?.roundPairs ?? null;
    const pairText =
      pairs === null ? '' : `${fmtRatio(pairs.median)} (${fmtRatio(pairs.min)}-${fmtRatio(pairs.max)})`;
    r.targets.forEach((t, i) => {
      const s = t.summary;
      lines.push(
        `| ${i === 0 ? r.scenario.id : ''} | ${t.label} | ${fmtInt(s.opsPerSec)} | ${fmtInt(s.p50Us)} | ${fmtInt(s.p99Us)} | ${fmtInt(s.p999Us)} | ${s.hitRatio === null ? 'n/a' : s.hitRatio.toFixed(3)} | ${fmtPct(s.serverCpu)} | ${fmtPct(s.generatorCpu)} | ${fmtPct(s.otherCpu)} | ${i === 0 ? fmtRatio(ops) : ''} | ${i === 0 ? fmtRatio(p99) : ''} | ${i === 0 ? pairText : ''} |`,
      );
    });
  }
  return lines.join('\n');
}

/**
 * Throughput ratios of the first target to the second round by round: rounds alternate, so round
 * r of each ran within seconds of the other, and a machine that slows down for a minute moves
 * both. Their median and range show how far the ratio of medians can be trusted.
 * @param {Array<{ rounds?: Array<{ opsPerSec: number }> }>} targets
 */
export function pairedRatios(targets) {
  const [a, b] = targets;
  if (a?.rounds === undefined || b?.rounds === undefined) return null;
  const values = [];
  for (let r = 0; r < Math.min(a.rounds.length, b.rounds.length); r++) {
    if (b.rounds[r].opsPerSec > 0) values.push(a.rounds[r].opsPerSec / b.rounds[r].opsPerSec);
  }
  if (values.length === 0) return null;
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), values };
}

/** Ratios of the first target to the second, for the JSON file. */
export function ratios(targets) {
  const [a, b] = targets;
  if (a === undefined || b === undefined) return null;
  const div = (x, y) => (x === null || y === null || y === 0 ? null : x / y);
  return {
    of: `${a.label}/${b.label}`,
    opsPerSec: div(a.summary.opsPerSec, b.summary.opsPerSec),
    p99Us: div(a.summary.p99Us, b.summary.p99Us),
    roundPairs: pairedRatios(targets),
  };
}
