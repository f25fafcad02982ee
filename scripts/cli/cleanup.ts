// virtnet cleanup: remove what a killed run left behind, found by the project's own names and PIDs.

import { ENVIRONMENTS } from '../../env/registry.ts';
import { listTestbeds, testbedDown } from '../../env/testbed/testbed.ts';
import { acquireLock, LockError } from '../../actions/lib/lock.ts';
import { parseCommandArgs } from './common.ts';
import { testbedLockPath } from './run.ts';

export async function cleanupEverything(): Promise<string[]> {
  const removed: string[] = [];
  // Environments first: their port maps and bridges hang off the testbed's addresses.
  for (const env of ENVIRONMENTS) removed.push(...(await env.cleanup()));
  for (const index of await listTestbeds()) {
    let lock;
    try {
      lock = acquireLock(testbedLockPath(index), `testbed ${index}`);
    } catch (e) {
      if (!(e instanceof LockError)) throw e;
      removed.push(`(kept testbed ${index}: ${e.message})`);
      continue;
    }
    try {
      removed.push(...(await testbedDown(index)));
    } finally {
      lock.release();
    }
  }
  return removed;
}

export async function commandCleanup(args: string[]): Promise<number> {
  parseCommandArgs(args, {});
  const removed = await cleanupEverything();
  console.log(removed.length > 0 ? `removed:\n  ${removed.join('\n  ')}` : 'nothing of virtnet was left behind');
  return 0;
}
