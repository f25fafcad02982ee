// virtnet testbed up|down|status

import { acquireLock } from '../../actions/lib/core/lock.ts';
import { formatDelay, parseDelay } from '../../env/testbed/delay-line.ts';
import { testbedDown, testbedLockPath, testbedStatus, testbedUp } from '../../env/testbed/testbed.ts';
import { parseCommandArgs, rateOption, testbedIndexOption, UsageError, say } from './common.ts';

/** --delay: a one-way delay ("0.2ms", "200us", "off") in microseconds, or undefined when not given. */
export function delayOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDelay(value, '--delay');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** --cc: a TCP congestion control name (whether the kernel has it is checked when it is set). */
export function congestionControlOption(value: string | undefined): string | undefined {
  if (value !== undefined && !/^[a-z0-9_]+$/.test(value))
    throw new UsageError(
      `--cc: expected a congestion control name such as cubic, reno or bbr, got ${JSON.stringify(value)}`,
    );
  return value;
}

export async function commandTestbed(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { rate: { type: 'string' }, index: { type: 'string' }, delay: { type: 'string' }, cc: { type: 'string' } },
    true,
  );
  const [action, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const index = testbedIndexOption(values.index);
  switch (action) {
    case 'up': {
      const testbed = await testbedUp({
        index,
        rateMbit: rateOption(values.rate, 100),
        oneWayDelayMicroseconds: delayOption(values.delay) ?? 0,
        congestionControl: congestionControlOption(values.cc),
      });
      const l = testbed.layout;
      const delay =
        testbed.delayLinePid === null
          ? 'no delay line'
          : `delay ${formatDelay(testbed.link.oneWayDelayMicroseconds ?? 0)} (delay line PID ${testbed.delayLinePid})`;
      say(
        `testbed ${index} up: client namespace ${l.clientNamespace} (${l.clientAddress}) <-> server ${l.serverInterface} (${l.serverAddress}); link: ${testbed.link.shaping}; ${delay}; client TCP congestion control ${testbed.congestionControl}`,
      );
      return 0;
    }
    case 'down': {
      // Taking the lock refuses to pull the link from under a running sweep.
      const lock = acquireLock(testbedLockPath(index), `testbed ${index}`);
      try {
        const removed = await testbedDown(index);
        say(
          removed.length > 0
            ? `testbed ${index} down: removed ${removed.join(', ')}`
            : `testbed ${index}: nothing to remove`,
        );
      } finally {
        lock.release();
      }
      return 0;
    }
    case 'status': {
      const s = await testbedStatus(index);
      say(JSON.stringify(s, null, 2));
      return s.up ? 0 : 3;
    }
    default:
      throw new UsageError(`testbed: expected up, down or status, got ${JSON.stringify(action ?? '')}`);
  }
}
