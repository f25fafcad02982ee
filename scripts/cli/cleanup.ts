// virtnet cleanup: remove what a killed run left behind, found by the project's own names and PIDs.
// What a live run holds is never touched: its testbed is locked by a live PID, and its daemons are
// registered under that PID.

import { CLEANUPS } from '../../env/registry.ts';
import { listTestbeds, testbedDown, testbedLockPath } from '../../env/testbed/testbed.ts';
import { acquireLock, LockError } from '../../actions/lib/core/lock.ts';
import { parseCommandArgs, testbedIndexOption, say } from './common.ts';

export interface CleanupReport {
  removed: string[];
  /** Things left alone because a live run holds them, with the reason. */
  kept: string[];
}

/** Cleans every testbed of ours, or only `onlyIndex`. */
export async function cleanupEverything(onlyIndex: number | null = null): Promise<CleanupReport> {
  const report: CleanupReport = { removed: [], kept: [] };
  // Environments first: their port maps and bridges hang off the testbed's addresses. With one
  // index asked for, each environment removes only what served that testbed.
  for (const cleanup of CLEANUPS) report.removed.push(...(await cleanup(onlyIndex)));
  const indexes = (await listTestbeds()).filter((i) => onlyIndex === null || i === onlyIndex);
  for (const index of indexes) {
    let lock;
    try {
      lock = acquireLock(testbedLockPath(index), `testbed ${index}`);
    } catch (e) {
      if (!(e instanceof LockError)) throw e;
      report.kept.push(`testbed ${index}: ${e.message}`);
      continue;
    }
    try {
      if (lock.tookOverFrom !== null)
        report.removed.push(`lock of testbed ${index} held by PID ${lock.tookOverFrom}, which is gone`);
      report.removed.push(...(await testbedDown(index)));
    } finally {
      lock.release();
    }
  }
  return report;
}

export async function commandCleanup(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { index: { type: 'string' } });
  const onlyIndex = values.index === undefined ? null : testbedIndexOption(values.index);
  const { removed, kept } = await cleanupEverything(onlyIndex);
  say(removed.length > 0 ? `removed:\n  ${removed.join('\n  ')}` : 'nothing of virtnet was left behind');
  if (kept.length > 0) say(`kept (in use by a live run):\n  ${kept.join('\n  ')}`);
  return 0;
}
