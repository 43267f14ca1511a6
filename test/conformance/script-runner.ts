// Runs a scripted text-protocol conversation against one server and records each step's full reply,
// so two servers (the Debian memcached and ours) can be compared step by step.
// A step's reply is known to be complete when the reply to a sentinel `version\r\n`, sent right after
// the step, has arrived: the server answers in order, so everything before it belongs to the step.
// Steps that make the server close the connection get no sentinel; their reply ends at the close.
// This file knows replies only well enough to find data blocks, CAS values and VERSION lines; it
// judges nothing.

import {
  CLOSED_MARK,
  type Payload,
  RawClient,
  type SplitMode,
  TIMEOUT_MARK,
  toBuffer,
} from '../helpers/raw-client.js';

export interface Target {
  readonly host: string;
  readonly port: number;
}

/** What a step may read from earlier replies on the same run (CAS values differ between servers). */
export interface StepContext {
  /** The CAS of `key` in the latest gets/gats reply, or meta reply with both `k` and `c`, of this run. */
  cas(key: string): string;
}

export interface Step {
  readonly name: string;
  readonly send: Payload | ((ctx: StepContext) => Payload);
  /** The server is expected to close the connection: send no sentinel, read until the close. */
  readonly closes?: boolean;
}

export interface StepOutcome {
  readonly name: string;
  readonly input: Buffer;
  readonly output: Buffer;
  readonly closed: boolean;
  readonly timedOut: boolean;
}

const SENTINEL = 'version\r\n';
const VALUE_LINE = /^VALUE (\S+) (\d+) (\d+)(?: (\d+))?$/;
/** A meta reply that carries flags; `VA <n>` is followed by an n-byte data block. */
const META_LINE = /^(?:HD|VA \d+|EN|NS|EX|NF)(?: |$)/;
const META_VALUE = /^VA (\d+)/;
/** The `c<cas>` and `k<key>` return flags of a meta reply. */
const META_CAS = / c(\d+)(?= |$)/;
const META_KEY = / k(\S+)/;

/** Lines of the step that are `version` commands; each adds a VERSION reply before the sentinel's. */
export function versionCommandsIn(bytes: Buffer): number {
  const text = bytes.toString('latin1');
  // memcached skips leading spaces and splits tokens on spaces only ("version\tx" is unknown).
  return (text.match(/(?<=^|\n) *version(?: [^\n]*)?\r?\n/g) ?? []).length;
}

/** One parsed reply line; `next` is where the following line starts (after its data block, if any). */
interface ReplyLine {
  readonly line: string;
  readonly start: number;
  readonly next: number;
}

/** Walks reply lines, stepping over VALUE and VA data blocks; stops at the first incomplete one. */
export function* replyLines(buf: Buffer): Generator<ReplyLine> {
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    if (nl === -1) return;
    const line = buf.toString('latin1', pos, nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl);
    let next = nl + 1;
    const dataLength = VALUE_LINE.exec(line)?.[3] ?? META_VALUE.exec(line)?.[1];
    if (dataLength !== undefined) {
      next += Number(dataLength) + 2;
      if (next > buf.length) return;
    }
    yield { line, start: pos, next };
    pos = next;
  }
}

function sentinelEnd(versionReplies: number) {
  return (buf: Buffer): number => {
    let seen = 0;
    for (const { line, next } of replyLines(buf)) {
      if (line.startsWith('VERSION ') && ++seen === versionReplies) return next;
    }
    return -1;
  };
}

/** Strips the sentinel's reply (the last line) from a step's output. */
function withoutSentinel(data: Buffer): Buffer {
  let lastStart = -1;
  for (const { start } of replyLines(data)) lastStart = start;
  return lastStart === -1 ? data : data.subarray(0, lastStart);
}

function recordCas(output: Buffer, casByKey: Map<string, string>): void {
  for (const { line } of replyLines(output)) {
    const value = VALUE_LINE.exec(line);
    if (value?.[4] !== undefined && value[1] !== undefined) casByKey.set(value[1], value[4]);
    if (!META_LINE.test(line)) continue;
    const key = META_KEY.exec(line)?.[1];
    const cas = META_CAS.exec(line)?.[1];
    if (key !== undefined && cas !== undefined) casByKey.set(key, cas);
  }
}

function resolveInput(step: Step, ctx: StepContext): Buffer {
  return toBuffer(typeof step.send === 'function' ? step.send(ctx) : step.send);
}

/** The step's input with every CAS it reads shown as `<cas:key>`, for reports. */
export function describeInput(step: Step): Buffer {
  return resolveInput(step, { cas: (key) => `<cas:${key}>` });
}

export interface RunOptions {
  /** Guard so a server that never answers fails the comparison instead of hanging it. */
  readonly replyTimeoutMs?: number;
  /** Called with each client as it connects, so the test can register its cleanup first. */
  readonly track?: (client: RawClient) => void;
}

export async function runScript(
  target: Target,
  steps: readonly Step[],
  mode: SplitMode,
  opts: RunOptions = {},
): Promise<StepOutcome[]> {
  const timeoutMs = opts.replyTimeoutMs ?? 5_000;
  const casByKey = new Map<string, string>();
  // A key with no CAS seen yet reads as 0, which no server hands out: the step then fails visibly.
  const ctx: StepContext = { cas: (key) => casByKey.get(key) ?? '0' };
  const outcomes: StepOutcome[] = [];
  let client: RawClient | undefined;
  try {
    for (const step of steps) {
      if (client === undefined || client.closed) {
        await client?.close();
        client = await RawClient.connect(target.host, target.port);
        opts.track?.(client);
      }
      const input = resolveInput(step, ctx);
      await client.send(input, mode);
      let output: Buffer;
      let closed: boolean;
      let timedOut: boolean;
      if (step.closes === true) {
        ({ data: output, closed, timedOut } = await client.readUntilClosed(timeoutMs));
      } else {
        await client.send(SENTINEL);
        const reply = await client.readReply(sentinelEnd(versionCommandsIn(input) + 1), timeoutMs);
        ({ closed, timedOut } = reply);
        output = closed || timedOut ? reply.data : withoutSentinel(reply.data);
      }
      recordCas(output, casByKey);
      outcomes.push({ name: step.name, input, output, closed, timedOut });
    }
  } finally {
    await client?.close();
  }
  return outcomes;
}

/**
 * Renders each outcome for comparison. CAS values (in gets/gats VALUE lines and in the `c` flag of
 * meta replies) differ between servers only by their counter, so each distinct number becomes
 * `<cas#n>`, n being its order of first appearance in the run.
 */
export function normalisedOutputs(outcomes: readonly StepOutcome[]): string[] {
  const casIds = new Map<string, number>();
  const casId = (cas: string): string => {
    let id = casIds.get(cas);
    if (id === undefined) {
      id = casIds.size + 1;
      casIds.set(cas, id);
    }
    return `<cas#${id}>`;
  };
  return outcomes.map((o) => {
    let text = '';
    let consumed = 0;
    for (const { line, start } of replyLines(o.output)) {
      const value = VALUE_LINE.exec(line);
      let rewritten: string | undefined;
      if (value?.[4] !== undefined)
        rewritten = `VALUE ${value[1]} ${value[2]} ${value[3]} ${casId(value[4])}`;
      else if (META_LINE.test(line) && META_CAS.test(line)) {
        rewritten = line.replace(META_CAS, (_, cas: string) => ` c${casId(cas)}`);
      }
      if (rewritten === undefined) continue;
      text += o.output.toString('latin1', consumed, start) + rewritten;
      consumed = start + line.length;
    }
    text += o.output.toString('latin1', consumed);
    if (o.closed) text += CLOSED_MARK;
    if (o.timedOut) text += TIMEOUT_MARK;
    return text;
  });
}

/** A printable, bounded rendering of wire bytes (JSON escapes show \r, \n and control bytes). */
export function show(bytes: Buffer | string, max = 240): string {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('latin1');
  const head = text.length > max ? `${text.slice(0, max)}…(${text.length} bytes)` : text;
  return JSON.stringify(head);
}
