// virtnet testbed up|down|status

import { acquireLock } from '../../actions/lib/core/lock.ts';
import { testbedDown, testbedStatus, testbedUp } from '../../env/testbed/testbed.ts';
import { parseCommandArgs, rateOption, testbedIndexOption, UsageError } from './common.ts';
import { testbedLockPath } from './run.ts';

export async function commandTestbed(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { rate: { type: 'string' }, index: { type: 'string' } }, true);
  const [action, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const index = testbedIndexOption(values.index);
  switch (action) {
    case 'up': {
      const testbed = await testbedUp({ index, rateMbit: rateOption(values.rate, 100) });
      const l = testbed.layout;
      console.log(`testbed ${index} up: client namespace ${l.clientNamespace} (${l.clientAddress}) <-> server ${l.serverInterface} (${l.serverAddress}); link: ${testbed.link.shaping}`);
      return 0;
    }
    case 'down': {
      // Taking the lock refuses to pull the link from under a running sweep.
      const lock = acquireLock(testbedLockPath(index), `testbed ${index}`);
      try {
        const removed = await testbedDown(index);
        console.log(removed.length > 0 ? `testbed ${index} down: removed ${removed.join(', ')}` : `testbed ${index}: nothing to remove`);
      } finally {
        lock.release();
      }
      return 0;
    }
    case 'status': {
      const s = await testbedStatus(index);
      console.log(JSON.stringify(s, null, 2));
      return s.up ? 0 : 3;
    }
    default:
      throw new UsageError(`testbed: expected up, down or status, got ${JSON.stringify(action ?? '')}`);
  }
}
