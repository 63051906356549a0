import { afterEach } from '@jest/globals';

/**
 * Wraps a factory so that whatever it makes in a test is closed after that test: a test that fails half-way
 * leaves no connection or subscription behind to disturb the next one.
 */
export function closedAfterEach<A extends unknown[], T extends { close(): Promise<void> }>(create: (...args: A) => T): (...args: A) => T {
  const opened: T[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((created) => created.close()));
  });
  return (...args) => {
    const created = create(...args);
    opened.push(created);
    return created;
  };
}
