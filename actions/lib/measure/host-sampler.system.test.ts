// The path watcher on real processes: two busy loops pinned to one CPU wait for it about half of
// the time each, a sleeping process does not wait, and a loop born after the baseline and gone
// before the end still counts. Real CPU contention: run under the system-test lock.

import { availableParallelism, getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Daemon, runCommand, sleep } from '../core/proc.ts';
import { hostSampler, pathWatcher } from './host-sampler.ts';
import { interferenceOf } from './interference.ts';
import { INTERFERENCE_DEFAULTS } from '../plan/plan.ts';

const started: Daemon[] = [];
const spawn = (argv: string[]) => {
  const d = new Daemon(argv, { label: 'test:host-sampler' });
  started.push(d);
  return d;
};
const orphans: number[] = [];
afterEach(async () => {
  for (const d of started.splice(0)) await d.stop(500);
  for (const pid of orphans.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already ended by its own timeout.
    }
  }
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

  it('finds busy loops that are not on the path and cover only part of the measurement, in its worst stretch', async () => {
    const peak = { windowMs: 400, pathOthersBusyPercent: 15 };
    const sample = hostSampler();
    const before = sample()!;
    const watch = (await pathWatcher({ intervalMs: 100, peak })([]))!;
    await sleep(1000);
    // One loop per CPU for 0.8 s, each the child of a shell that exits at once: reparented away
    // from this process, so they are others, not the path. Each ends by its own timeout. At nice 0
    // even when the suite runs niced: niced time is not others' where nice yields (interference.ts).
    const toNiceZero = -getPriority();
    for (let cpu = 0; cpu < availableParallelism(); cpu++) {
      const loop = `nice -n ${toNiceZero} timeout 0.8 taskset -c ${cpu} sh -c 'while :; do :; done'`;
      const r = await runCommand(['sh', '-c', `${loop} >/dev/null 2>&1 & echo $!`], { timeoutMs: 5000 });
      orphans.push(Number(r.stdout.trim()));
    }
    await sleep(1200);
    const path = await watch.stop();
    const whole = interferenceOf(before, sample()!, { ...INTERFERENCE_DEFAULTS, peakWindowMs: peak.windowMs }, path);
    // Every CPU busy for a whole 400 ms stretch: well above one core's worth in the stretch.
    expect(path.peak!.othersBusyPercent).toBeGreaterThan(60);
    expect(path.peak!.othersBusyPercent).toBeGreaterThan(whole.othersBusyPercent);
    expect(whole.flagged).toBe(true);
    expect(whole.reasons.join('; ')).toMatch(/others busy [\d.]+% (over a 400 ms stretch )?> 50%/);
  });
});
