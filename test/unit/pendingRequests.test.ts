import { jest } from '@jest/globals';
import { PendingRequests, type PendingRequest } from '../../src/transport/PendingRequests.js';

/** A request whose outcome the test can read; `timedOut` names it so the test sees which one expired. */
function request(name: string, timeoutMs: number, outcomes: Map<string, { at: number; outcome: string }>, startedAt = Date.now()): PendingRequest<string> {
  return {
    resolve: (value) => outcomes.set(name, { at: Date.now() - startedAt, outcome: `reply ${value}` }),
    reject: (error) => outcomes.set(name, { at: Date.now() - startedAt, outcome: error.message }),
    deadline: startedAt + timeoutMs,
    timedOut: () => new Error(`${name} timed out`),
  };
}

const settled = (outcomes: Map<string, unknown>, count: number): Promise<void> =>
  new Promise((resolve) => {
    const check = (): void => void (outcomes.size >= count ? resolve() : setTimeout(check, 2));
    check();
  });

/** Timers of this process that are keeping it alive. */
const activeTimers = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

describe('pending requests and their deadlines, kept by one timer', () => {
  it('times each request out at its own deadline, never early, whatever order the deadlines come in', async () => {
    const outcomes = new Map<string, { at: number; outcome: string }>();
    const pending = new PendingRequests<string>();
    const start = Date.now();
    // A long deadline first, then a shorter one: the timer must move earlier for the second.
    pending.add('1', request('slow', 120, outcomes, start));
    pending.add('2', request('fast', 30, outcomes, start));
    pending.add('3', request('answered', 60, outcomes, start));
    pending.add('4', request('middle', 70, outcomes, start));
    setTimeout(() => pending.take('3')?.resolve('ok'), 10);
    await settled(outcomes, 4);
    expect(Object.fromEntries([...outcomes].map(([name, { outcome }]) => [name, outcome]))).toEqual({
      fast: 'fast timed out',
      answered: 'reply ok',
      middle: 'middle timed out',
      slow: 'slow timed out',
    });
    expect(outcomes.get('fast')!.at).toBeGreaterThanOrEqual(30);
    expect(outcomes.get('middle')!.at).toBeGreaterThanOrEqual(70);
    expect(outcomes.get('slow')!.at).toBeGreaterThanOrEqual(120);
    expect(pending.size).toBe(0);
  });

  it('holds a timer only while something is pending, so an idle connection never keeps the process alive', () => {
    const before = activeTimers();
    const pending = new PendingRequests<string>();
    const outcomes = new Map<string, { at: number; outcome: string }>();
    pending.add('1', request('a', 30_000, outcomes));
    pending.add('2', request('b', 30_000, outcomes));
    expect(activeTimers()).toBe(before + 1);
    pending.take('1')!.resolve('x');
    expect(activeTimers()).toBe(before + 1);
    pending.take('2')!.resolve('y');
    expect(activeTimers()).toBe(before);
    pending.add('3', request('c', 30_000, outcomes));
    expect(pending.takeAll().map((entry) => entry.deadline > Date.now())).toEqual([true]);
    expect(activeTimers()).toBe(before);
    expect(pending.take('3')).toBeUndefined();
  });

  it('lets a timed-out request\'s handler send the next one on the same connection', async () => {
    const pending = new PendingRequests<string>();
    const outcomes = new Map<string, { at: number; outcome: string }>();
    const first = request('first', 5, outcomes);
    pending.add('1', {
      ...first,
      reject: (error) => {
        first.reject(error);
        pending.add('2', request('second', 5, outcomes));
      },
    });
    await settled(outcomes, 2);
    expect([...outcomes.keys()]).toEqual(['first', 'second']);
    expect(pending.size).toBe(0);
  });

  it('waits for a deadline beyond what one setTimeout can wait for without overflowing it (Node would fire at 1 ms)', () => {
    const delays: number[] = [];
    const original = globalThis.setTimeout;
    const spy = jest.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: () => void, ms?: number) => {
      delays.push(ms ?? 0);
      return original(callback, ms);
    }) as typeof setTimeout);
    try {
      const pending = new PendingRequests<string>();
      pending.add('1', request('far', 2 ** 40, new Map()));
      pending.takeAll();
    } finally {
      spy.mockRestore();
    }
    expect(delays).toEqual([2 ** 31 - 1]);
  });
});
