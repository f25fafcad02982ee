// The path watcher on real processes: two busy loops pinned to one CPU wait for it about half of
// the time each, a sleeping process does not wait, and a loop born after the baseline and gone
// before the end still counts. Real CPU contention: run under the system-test lock.

import { afterEach, describe, expect, it } from 'vitest';
import { Daemon, sleep } from '../core/proc.ts';
import { pathWatcher } from './host-sampler.ts';

const started: Daemon[] = [];
const spawn = (argv: string[]) => {
  const d = new Daemon(argv, { label: 'test:host-sampler' });
  started.push(d);
  return d;
};
afterEach(async () => {
  for (const d of started.splice(0)) await d.stop(500);
});

describe('pathWatcher on real processes', () => {
  it('sees two loops on one CPU wait for it, and a sleeper not', async () => {
    const watch = (await pathWatcher({ intervalMs: 100 })([]))!;
    expect(watch).not.toBeNull();
    // Children of this process are on the path: the loops (comm "sh") and the sleeper ("sleep").
    spawn(['taskset', '-c', '0', 'sh', '-c', 'while :; do :; done']);
    spawn(['taskset', '-c', '0', 'sh', '-c', 'while :; do :; done']);
    spawn(['sleep', '30']);
    await sleep(1500);
    const path = await watch.stop();
    // Each loop runs about half of the time and waits the other half: together about 100% of the wall time.
    expect(path.waitPercent.sh).toBeGreaterThan(60);
    expect(path.waitPercent.sleep).toBeLessThan(5);
    expect(path.lateReleasePercent).toBeNull();
  });

  it('keeps the wait of a process born after the baseline and gone before the end', async () => {
    spawn(['taskset', '-c', '1', 'sh', '-c', 'while :; do :; done']);
    const watch = (await pathWatcher({ intervalMs: 100 })([]))!;
    // A second loop on the same CPU for about a second, then gone.
    const shortLived = spawn(['taskset', '-c', '1', 'timeout', '1', 'sh', '-c', 'while :; do :; done']);
    await shortLived.waitForExit();
    await sleep(300);
    const path = await watch.stop();
    expect(path.waitPercent.sh).toBeGreaterThan(40);
  });

  it('reads the delay line counters before and after', async () => {
    let reads = 0;
    const watch = (await pathWatcher({
      releases: async () => (reads++ === 0 ? { released: 100, late: 1 } : { released: 1100, late: 51 }),
    })([]))!;
    expect((await watch.stop()).lateReleasePercent).toBe(5);
  });
});
