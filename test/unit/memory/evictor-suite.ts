// The shared Evictor suite (convention #4): every policy runs these, so any
// policy can stand in for any other. Policy-specific behaviour is tested in
// each policy's own file.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEvictor, type EvictionPolicy, type Evictor } from '../../../src/tiers/memory/evictor.js';

/** Takes candidates until the queue is empty, removing each; returns them in order. */
export function drain(evictor: Evictor, queue: number): number[] {
  const order: number[] = [];
  for (let victim = evictor.candidate(queue); victim >= 0; victim = evictor.candidate(queue)) {
    order.push(victim);
    evictor.remove(victim);
  }
  return order;
}

export function evictorSuite(policy: EvictionPolicy): void {
  describe(`Evictor contract: ${policy}`, () => {
    it('reports its policy and an empty queue has no candidate', () => {
      const evictor = createEvictor(policy, 3, 8);
      expect(evictor.policy).toBe(policy);
      for (let queue = 0; queue < 3; queue++) expect(evictor.candidate(queue)).toBe(-1);
    });

    it('candidate does not remove', () => {
      const evictor = createEvictor(policy, 1, 4);
      evictor.insert(2, 0);
      expect(evictor.candidate(0)).toBe(2);
      expect(evictor.candidate(0)).toBe(2);
      evictor.remove(2);
      expect(evictor.candidate(0)).toBe(-1);
    });

    it('evicts never-hit slots in insertion order', () => {
      const evictor = createEvictor(policy, 1, 64);
      const slots = [17, 3, 40, 0, 63, 8, 21];
      for (const slot of slots) evictor.insert(slot, 0);
      expect(drain(evictor, 0)).toEqual(slots);
    });

    it('keeps queues apart', () => {
      const evictor = createEvictor(policy, 3, 16);
      evictor.insert(1, 0);
      evictor.insert(2, 2);
      evictor.insert(3, 0);
      evictor.access(3);
      expect(evictor.candidate(1)).toBe(-1);
      expect(drain(evictor, 2)).toEqual([2]);
      expect(drain(evictor, 0).sort()).toEqual([1, 3]);
    });

    it('removing from the middle unlinks only that slot', () => {
      const evictor = createEvictor(policy, 1, 8);
      for (const slot of [0, 1, 2, 3]) evictor.insert(slot, 0);
      evictor.remove(1);
      evictor.remove(3);
      expect(drain(evictor, 0)).toEqual([0, 2]);
    });

    it('grow keeps every slot and accepts slots past the old capacity', () => {
      const evictor = createEvictor(policy, 2, 4);
      const before = evictor.allocatedBytes;
      for (let slot = 0; slot < 4; slot++) evictor.insert(slot, slot % 2);
      evictor.access(1);
      evictor.grow(1000);
      expect(evictor.allocatedBytes).toBeGreaterThanOrEqual(before + 996 * evictor.bytesPerSlot);
      for (let slot = 4; slot < 1000; slot++) evictor.insert(slot, slot % 2);
      const all = [...drain(evictor, 0), ...drain(evictor, 1)].sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    });

    it('a freed slot can be inserted again, into another queue', () => {
      const evictor = createEvictor(policy, 2, 4);
      evictor.insert(0, 0);
      evictor.access(0);
      evictor.remove(0);
      evictor.insert(0, 1);
      expect(evictor.candidate(0)).toBe(-1);
      expect(drain(evictor, 1)).toEqual([0]);
    });

    it('matches a set model under random inserts, hits and removes', () => {
      const queues = 3;
      const capacity = 40;
      const op = fc.oneof(
        fc.record({
          kind: fc.constant('insert' as const),
          slot: fc.nat(capacity - 1),
          queue: fc.nat(queues - 1),
        }),
        fc.record({ kind: fc.constant('access' as const), slot: fc.nat(capacity - 1) }),
        fc.record({ kind: fc.constant('remove' as const), slot: fc.nat(capacity - 1) }),
        fc.record({ kind: fc.constant('evict' as const), queue: fc.nat(queues - 1) }),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 300, size: 'max' }), (ops) => {
          const evictor = createEvictor(policy, queues, capacity);
          const queueOf = new Map<number, number>();
          for (const step of ops) {
            switch (step.kind) {
              case 'insert':
                if (queueOf.has(step.slot)) break;
                evictor.insert(step.slot, step.queue);
                queueOf.set(step.slot, step.queue);
                break;
              case 'access':
                if (queueOf.has(step.slot)) evictor.access(step.slot);
                break;
              case 'remove':
                if (!queueOf.has(step.slot)) break;
                evictor.remove(step.slot);
                queueOf.delete(step.slot);
                break;
              case 'evict': {
                const victim = evictor.candidate(step.queue);
                const members = [...queueOf].filter(([, queue]) => queue === step.queue);
                if (members.length === 0) {
                  expect(victim).toBe(-1);
                  break;
                }
                expect(queueOf.get(victim)).toBe(step.queue);
                evictor.remove(victim);
                queueOf.delete(victim);
                break;
              }
              default:
                return step satisfies never;
            }
          }
          for (let queue = 0; queue < queues; queue++) {
            const expected = [...queueOf].filter(([, q]) => q === queue).map(([slot]) => slot);
            expect(drain(evictor, queue).sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
          }
        }),
        { numRuns: 200 },
      );
    });
  });
}
