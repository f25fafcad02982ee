// Testbeds for tests: each test file takes its own index, so tests never share a link with a run
// (index 0) or with each other, and every one is torn down after the file, also on failure.

import { afterAll } from 'vitest';
import { type Testbed, testbedDown, testbedUp } from '../../../env/testbed/testbed.ts';

/** Indexes 8..63 are for tests; VIRTNET_TEST_INDEX_BASE lets parallel checkouts use disjoint ranges. */
export function testIndex(offset: number): number {
  const base = Number(process.env.VIRTNET_TEST_INDEX_BASE ?? 8);
  const index = base + offset;
  if (index < 1 || index > 63) throw new Error(`test testbed index ${index} out of range`);
  return index;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

const madeByThisFile = new Set<number>();

// Registered when a test file first imports this module (modules are evaluated per test file), so
// the teardown runs after the file's tests even when testbedForTests was called inside a hook,
// where a nested afterAll would never run.
afterAll(async () => {
  for (const index of madeByThisFile) await testbedDown(index);
  madeByThisFile.clear();
});

/** Brings up a testbed for this test file; it is torn down after the file's tests, also on failure. */
export async function testbedForTests(offset: number, rateMbit: number | null = 100): Promise<Testbed> {
  const index = testIndex(offset);
  await testbedDown(index);
  madeByThisFile.add(index);
  return testbedUp({ index, rateMbit });
}
