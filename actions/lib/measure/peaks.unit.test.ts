import { describe, expect, it } from 'vitest';
import { type Look, peakOf } from './peaks.ts';
import { interferenceOf, type HostSample, peakReasons } from './interference.ts';
import { INTERFERENCE_DEFAULTS } from '../plan/plan.ts';

const MS = 1e6;
const idleCpu = { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0 };

/**
 * Looks every 200 ms over a 2 s measurement on 2 CPUs (40 ticks per look at USER_HZ 100): the run
 * itself keeps `own` ticks busy per look, a second program `others(i)` more, the rest is idle; the
 * delay line waits `wait(i)` ms per look.
 */
function looks(others: (i: number) => number, wait: (i: number) => number, own = 8, steal = () => 0): Look[] {
  const out: Look[] = [];
  let cpu = { ...idleCpu };
  let ownTicks = 0;
  let othersTicks = 0;
  let waitNs = 0;
  for (let i = 0; i <= 10; i++) {
    if (i > 0) {
      const o = others(i);
      const s = steal();
      cpu = { ...cpu, user: cpu.user + own + o, steal: cpu.steal + s, idle: cpu.idle + (40 - own - o - s) };
      ownTicks += own;
      othersTicks += o;
      waitNs += wait(i) * MS;
    }
    out.push({
      atNs: i * 200 * MS,
      cpu,
      ownTicks,
      othersTicks,
      nicedOthersTicks: 0,
      niceYields: false,
      waitNs: { 'delay-line': waitNs },
    });
  }
  return out;
}

describe('peakOf', () => {
  it('finds a busy loop that covered only the last 400 ms of a measurement', () => {
    // Two busy loops (both cores, 32 free ticks per look taken by them) in looks 9 and 10 only.
    const l = looks(
      (i) => (i >= 9 ? 32 : 0),
      (i) => (i >= 9 ? 120 : 2),
    );
    const peak = peakOf(l, 400, 15)!;
    expect(peak.othersBusyPercent).toBe(80);
    // Over the whole 2 s the same loops are diluted to 16% of the machine, below 50% (next describe).
    expect(peak.waitPercent['delay-line']).toBe(60);
  });

  it('leaves a quiet measurement quiet, and counts the path wait only while others are busy', () => {
    // The path contends with itself (the delay line waits 40% of each look) while others stay at 5%.
    const peak = peakOf(
      looks(
        () => 2,
        () => 80,
      ),
      400,
      15,
    )!;
    expect(peak).toEqual({
      windowMs: 400,
      othersBusyPercent: 5,
      stealPercent: 0,
      waitPercent: {},
      pathOthersBusyPercent: 15,
    });
  });

  it('sees a steal episode', () => {
    const peak = peakOf(
      looks(
        () => 0,
        () => 0,
        8,
        () => 4,
      ),
      1000,
      15,
    )!;
    expect(peak.stealPercent).toBe(10);
  });

  it('is null for a call shorter than the window, and counts niced time only where it does not yield', () => {
    expect(
      peakOf(
        looks(
          () => 0,
          () => 0,
        ).slice(0, 2),
        400,
        15,
      ),
    ).toBeNull();
    const niced = looks(
      () => 0,
      () => 0,
    ).map((l, i) => ({
      ...l,
      niceYields: true,
      cpu: { ...l.cpu, nice: 30 * i, idle: l.cpu.idle - 30 * i },
      othersTicks: l.othersTicks + 30 * i,
      nicedOthersTicks: 30 * i,
    }));
    expect(peakOf(niced, 400, 15)!.othersBusyPercent).toBe(0);
    expect(
      peakOf(
        niced.map((l) => ({ ...l, niceYields: false })),
        400,
        15,
      )!.othersBusyPercent,
    ).toBe(75);
  });
});

describe('peak reasons in interferenceOf', () => {
  const thresholds = { ...INTERFERENCE_DEFAULTS, maxWaitPercent: 10 };
  const sample = (user: number, idle: number, othersTicks: number): HostSample => ({
    cpu: { ...idleCpu, user, idle },
    cores: 2,
    ownTicks: 0,
    othersTicks,
    nicedOthersTicks: 0,
    loadAverage1: 0,
    niceYields: false,
  });

  it('flags a measurement whose whole passes but whose worst stretch does not, naming the stretch', () => {
    const peak = peakOf(
      looks(
        (i) => (i >= 9 ? 32 : 0),
        (i) => (i >= 9 ? 120 : 2),
      ),
      400,
      15,
    )!;
    // The whole: others 16% (their 64 of 400 ticks), no path wait to speak of.
    const i = interferenceOf(sample(0, 0, 0), sample(144, 256, 64), thresholds, {
      waitPercent: { 'delay-line': 1 },
      lateReleasePercent: null,
      peak,
    });
    expect(i.othersBusyPercent).toBe(16);
    expect(i.flagged).toBe(true);
    expect(i.reasons).toEqual([
      'others busy 80% over a 400 ms stretch > 50%',
      'delay-line waited for a CPU 60% of a 400 ms stretch > 10% with others busy > 15%',
    ]);
    expect(i.peak).toEqual(peak);
  });

  it('says nothing twice: a threshold the whole crossed is not repeated for the stretch', () => {
    const peak = { windowMs: 400, othersBusyPercent: 90, stealPercent: 0, waitPercent: {}, pathOthersBusyPercent: 15 };
    expect(peakReasons(peak, thresholds, ['others busy 60% > 50%'])).toEqual([]);
    expect(peakReasons(peak, thresholds, [])).toEqual(['others busy 90% over a 400 ms stretch > 50%']);
  });

  it("judges a stretch's others' busy time by its own bar where the plan sets one, the whole's otherwise", () => {
    const peak = {
      windowMs: 500,
      othersBusyPercent: 12.3,
      stealPercent: 0,
      waitPercent: {},
      pathOthersBusyPercent: 15,
    };
    expect(peakReasons(peak, thresholds, [])).toEqual([]);
    expect(peakReasons(peak, { ...thresholds, maxPeakOthersBusyPercent: 10 }, [])).toEqual([
      'others busy 12.3% over a 500 ms stretch > 10%',
    ]);
    expect(
      peakReasons({ ...peak, othersBusyPercent: 10 }, { ...thresholds, maxPeakOthersBusyPercent: 10 }, []),
    ).toEqual([]);
  });
});
