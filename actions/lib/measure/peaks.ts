// The worst stretch of a measurement: the same shares as over the whole call (others' busy time,
// steal, each path process's wait for a CPU), taken over every stretch of a given length between
// the looks the path watcher takes while netperf runs. Why: a disturbance that covers a quarter of
// a 2 s measurement is diluted four times in its whole, so a busy loop that starts or ends during
// it passes the thresholds while it cost the measurement a few percent. Pure: the looks are taken
// in host-sampler.ts.

import { cpuBetween, type CpuTimes, type Peak } from './interference.ts';

/** One look at the host while netperf runs. */
export interface Look {
  /** Monotonic time of the look, in nanoseconds. */
  atNs: number;
  cpu: CpuTimes;
  /** CPU ticks used so far by the run's own processes, and by every other process (HostSample). */
  ownTicks: number;
  othersTicks: number;
  nicedOthersTicks: number;
  /** Whether niced time yields to the path (HostSample.niceYields). */
  niceYields: boolean;
  /** Per path process: its threads' wait for a CPU so far, counted from the watch's baseline, in ns. */
  waitNs: Record<string, number>;
}

const round1 = (x: number) => Number(x.toFixed(1));

/**
 * Others' busy time, steal and the path's wait over the stretch between two looks, as interferenceOf
 * counts them over a whole measurement (other processes' time and steal; niced time where it yields).
 */
function stretch(from: Look, to: Look): { othersBusy: number; steal: number; wait: Record<string, number> } {
  const { d, total, othersBusy } = cpuBetween(from, to);
  const wallNs = to.atNs - from.atNs;
  const wait: Record<string, number> = {};
  for (const [process, ns] of Object.entries(to.waitNs)) {
    const waited = Math.max(0, ns - (from.waitNs[process] ?? 0));
    wait[process] = wallNs > 0 ? (100 * waited) / wallNs : 0;
  }
  return {
    othersBusy,
    steal: total > 0 ? (100 * d.steal) / total : 0,
    wait,
  };
}

/**
 * The worst stretch of at least `windowMs` between looks: from each look to the first look at
 * least `windowMs` after it. Null when no two looks are that far apart (a call shorter than the
 * window: its whole is already judged).
 */
export function peakOf(looks: readonly Look[], windowMs: number, pathOthersBusyPercent: number): Peak | null {
  const windowNs = windowMs * 1e6;
  let peak: Peak | null = null;
  let j = 0;
  for (let i = 0; i < looks.length; i++) {
    j = Math.max(j, i + 1);
    while (j < looks.length && looks[j]!.atNs - looks[i]!.atNs < windowNs) j++;
    if (j >= looks.length) break;
    const s = stretch(looks[i]!, looks[j]!);
    peak ??= { windowMs, othersBusyPercent: 0, stealPercent: 0, waitPercent: {}, pathOthersBusyPercent };
    peak.othersBusyPercent = Math.max(peak.othersBusyPercent, round1(s.othersBusy));
    peak.stealPercent = Math.max(peak.stealPercent, round1(s.steal));
    if (s.othersBusy <= pathOthersBusyPercent) continue;
    for (const [process, percent] of Object.entries(s.wait))
      peak.waitPercent[process] = Math.max(peak.waitPercent[process] ?? 0, round1(percent));
  }
  if (peak !== null)
    peak.waitPercent = Object.fromEntries(Object.entries(peak.waitPercent).sort(([a], [b]) => a.localeCompare(b)));
  return peak;
}
