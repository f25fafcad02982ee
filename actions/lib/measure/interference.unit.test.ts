// The interference arithmetic on recorded /proc texts: shares of the machine's CPU time between two
// /proc/stat samples, the run's own CPU time from /proc/PID/stat, and the thresholds' flags.

import { describe, expect, it } from 'vitest';
import {
  type HostSample,
  interferenceOf,
  parseLoadAverage,
  parsePidStat,
  parseProcStat,
  ProcFormatError,
  treeTicks,
  othersTicks,
  ownTicks,
  KERNEL_THREADS_PARENT,
} from './interference.ts';
import { INTERFERENCE_DEFAULTS } from '../plan/plan.ts';

// Recorded on a 2-core VM, 2.3 s apart, while netperf ran at line rate and another program kept
// both cores busy (user 59%, system 41% of the machine).
const STAT_BEFORE = `cpu  1295452 5679 835326 347141 4369 0 78009 0 0 0
cpu0 647090 2696 412161 182180 861 0 37903 0 0 0
cpu1 648362 2983 423164 164961 3508 0 40106 0 0 0
intr 54769286 0 0 0
ctxt 145215938
btime 1764300000
processes 15600
procs_running 2
procs_blocked 0
`;
const STAT_AFTER = `cpu  1295725 5679 835506 347141 4369 0 78019 10 0 0
cpu0 647226 2696 412251 182180 861 0 37908 5 0 0
cpu1 648499 2983 423255 164961 3508 0 40111 5 0 0
intr 54779286 0 0 0
`;

const thresholds = { ...INTERFERENCE_DEFAULTS };
/** A look at the host: /proc/stat's text, the run's own ticks and every other process's, the load. */
const sample = (stat: string, ownTicks: number, loadAverage1: number, othersTicks = 0): HostSample => ({
  ...parseProcStat(stat),
  ownTicks,
  othersTicks,
  nicedOthersTicks: 0,
  loadAverage1,
});

describe('parseProcStat', () => {
  it('reads the aggregate line and counts the CPUs', () => {
    const { cpu, cores } = parseProcStat(STAT_BEFORE);
    expect(cores).toBe(2);
    expect(cpu).toEqual({
      user: 1295452,
      nice: 5679,
      system: 835326,
      idle: 347141,
      iowait: 4369,
      irq: 0,
      softirq: 78009,
      steal: 0,
    });
  });

  it('refuses a text without a cpu line, naming the file', () => {
    expect(() => parseProcStat('intr 1 2 3\n')).toThrow(ProcFormatError);
    expect(() => parseProcStat('cpu  1 2 x 4 5 6 7 8\n')).toThrow(/\/proc\/stat: unreadable "cpu" line/);
  });
});

describe('parseLoadAverage', () => {
  it('reads the 1-minute figure', () => {
    expect(parseLoadAverage('2.93 1.98 2.28 2/97 15600\n')).toBe(2.93);
    expect(() => parseLoadAverage('')).toThrow(/\/proc\/loadavg/);
  });
});

describe('parsePidStat and treeTicks', () => {
  // utime 10, stime 5, cutime 2, cstime 1 after a command name with spaces and parentheses.
  const line = (pid: number, ppid: number, comm: string, utime: number, nice = 0) =>
    `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${utime} 5 2 1 ${20 + nice} ${nice} 1 0 100 0 0`;

  it('counts fields from the last parenthesis and sums utime, stime, cutime and cstime', () => {
    expect(parsePidStat(line(42, 1, 'a (b) c', 10))).toEqual({ pid: 42, ppid: 1, ticks: 18, nice: 0 });
    expect(parsePidStat(line(42, 1, 'a (b) c', 10, 19)).nice).toBe(19);
    expect(() => parsePidStat('garbage')).toThrow(ProcFormatError);
  });

  it('sums a process and its descendants once, and leaves out everything else', () => {
    const procs = [
      line(10, 1, 'node', 100),
      line(11, 10, 'netperf', 20),
      line(12, 11, 'sh', 30),
      line(13, 1, 'busy', 500),
      line(14, 1, 'delay line', 40),
    ].map(parsePidStat);
    expect(treeTicks(procs, [10])).toBe(108 + 28 + 38);
    expect(treeTicks(procs, [10, 14, 11])).toBe(108 + 28 + 38 + 48);
    expect(treeTicks(procs, [99])).toBe(0);
  });

  it("counts the kernel's threads (ksoftirqd, kworkers: the path's packet work) as the run's own, and another job not", () => {
    const procs = [
      line(2, 0, 'kthreadd', 0),
      line(14, 2, 'ksoftirqd/0', 130),
      line(15, 2, 'kworker/1:2-events', 90),
      line(10, 1, 'node', 100),
      line(13, 1, 'busy', 500),
    ].map(parsePidStat);
    expect(ownTicks(procs, [10])).toBe(108 + (8 + 138) + 98);
    expect(ownTicks(procs, [10])).toBe(treeTicks(procs, [10, KERNEL_THREADS_PARENT]));
    // Everything else is others': the busy job, whatever its parent.
    expect(othersTicks(procs, [10])).toEqual({ ticks: 508, nicedTicks: 0 });
  });

  it("counts every process outside the run's tree as others', the niced ones apart", () => {
    const procs = [
      line(1, 0, 'init', 3),
      line(2, 0, 'kthreadd', 0),
      line(14, 2, 'ksoftirqd/0', 130),
      line(10, 1, 'node', 100),
      line(11, 10, 'netperf', 20),
      line(13, 1, 'timeout', 0),
      line(16, 13, 'busy', 500),
      line(17, 1, 'build', 200, 19),
    ].map(parsePidStat);
    expect(othersTicks(procs, [10])).toEqual({ ticks: 11 + 8 + 508 + 208, nicedTicks: 208 });
    // All of it is one or the other, each process once.
    const all = procs.reduce((sum, p) => sum + p.ticks, 0);
    expect(othersTicks(procs, [10]).ticks + ownTicks(procs, [10])).toBe(all);
  });
});

describe('interferenceOf', () => {
  it("leaves niced time out of others' busy time only where nice yields (no autogroups)", () => {
    // Every busy tick here is another program's: `user` at nice 0, `nice` at nice 19.
    const at = (user: number, nice: number, idle: number, niceYields: boolean): HostSample => ({
      cpu: { user, nice, system: 0, idle, iowait: 0, irq: 0, softirq: 0, steal: 0 },
      cores: 2,
      ownTicks: 0,
      othersTicks: user + nice,
      nicedOthersTicks: nice,
      loadAverage1: 0,
      niceYields,
    });
    // 400 ticks over 2 s on 2 CPUs: 40 at nice 0, then a second program's 180 at nice 19 or at nice 0.
    const niced = interferenceOf(at(0, 0, 0, true), at(40, 180, 180, true), thresholds);
    expect(niced).toMatchObject({ userPercent: 55, othersBusyPercent: 10, flagged: false });
    const normal = interferenceOf(at(0, 0, 0, true), at(220, 0, 180, true), thresholds);
    expect(normal).toMatchObject({ userPercent: 55, othersBusyPercent: 55, flagged: true });
    // With autogroups a niced program in another session takes its share all the same.
    const grouped = interferenceOf(at(0, 0, 0, false), at(40, 180, 180, false), thresholds);
    expect(grouped).toMatchObject({ othersBusyPercent: 55, flagged: true });
  });

  it('computes shares of the machine CPU time between the samples and flags what others used', () => {
    // 473 ticks in all: user 273, system 180 + softirq 10, steal 10, idle 0; the run's own 40, the
    // other program's processes 403. Others: their ticks + steal = 413.
    const i = interferenceOf(sample(STAT_BEFORE, 1000, 0.5, 5000), sample(STAT_AFTER, 1040, 0.9, 5403), thresholds);
    expect(i).toMatchObject({
      userPercent: 57.7,
      systemPercent: 40.2,
      iowaitPercent: 0,
      stealPercent: 2.1,
      othersBusyPercent: 87.3,
      loadAverage1: 0.9,
      cores: 2,
    });
    expect(i.flagged).toBe(true);
    expect(i.reasons).toEqual(['others busy 87.3% > 50%']);
  });

  it("counts the CPU time the kernel charged to other programs, not the machine's busy time less the run's own", () => {
    // 400 ticks: the path's user 20, system 60 and softirq 100 (its packet work; 60 of it landed on
    // top of netperf and netserver, so their stime has it, the rest on idle CPUs), and a busy loop's 40.
    const before = `cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 0\ncpu1 0\n`;
    const after = `cpu  60 0 60 180 0 0 100 0 0 0\ncpu0 0\ncpu1 0\n`;
    const i = interferenceOf(sample(before, 0, 0), sample(after, 20 + 60 + 60, 0, 40), thresholds);
    // Busy less own would read 60 + 60 - 140 < 0: nothing; the loop's 40 ticks are 10%.
    expect(i.othersBusyPercent).toBe(10);
  });

  it('does not flag a quiet measurement, and names every threshold crossed', () => {
    const quiet = `cpu  1000 0 500 8000 0 0 100 0 0 0\ncpu0 1 0 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0 0\n`;
    const later = (user: number, system: number, idle: number, steal: number) =>
      `cpu  ${1000 + user} 0 ${500 + system} ${8000 + idle} 0 0 100 ${steal} 0 0\ncpu0 1\ncpu1 1\n`;
    const calm = interferenceOf(sample(quiet, 0, 0.3), sample(later(20, 30, 350, 0), 40, 0.4, 10), thresholds);
    expect(calm).toMatchObject({ othersBusyPercent: 2.5, flagged: false, reasons: [] });
    const stolen = interferenceOf(sample(quiet, 0, 0.3), sample(later(20, 30, 100, 250), 40, 3.4, 10), {
      ...thresholds,
      maxLoadPerCore: 1.5,
    });
    // 400 ticks on 2 CPUs, 40 of them the run's own: 0.2 CPUs; (3.4 - 0.2) / 2 = 1.6 per core.
    expect(stolen.reasons).toEqual([
      'steal 62.5% > 5%',
      'others busy 65% > 50%',
      "load 1.6 per core beside the run's own 0.2 busy CPUs > 1.5",
    ]);
  });

  it("flags on the load average only when asked, and only on the load beyond the run's own busy CPUs", () => {
    const quiet = `cpu  1000 0 500 8000 0 0 100 0 0 0\ncpu0 1 0 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0 0\n`;
    // A TCG guest of the run's own keeps both CPUs busy (360 of 400 ticks: 1.8 CPUs), load 3.0.
    const guestBusy = `cpu  1340 0 520 8040 0 0 100 0 0 0\ncpu0 1\ncpu1 1\n`;
    expect(thresholds.maxLoadPerCore).toBeNull();
    expect(interferenceOf(sample(quiet, 0, 3), sample(guestBusy, 360, 3.0), thresholds)).toMatchObject({
      loadAverage1: 3,
      flagged: false,
      reasons: [],
    });
    const asked = { ...thresholds, maxLoadPerCore: 0.5 };
    // (3.0 - 1.8) / 2 = 0.6 per core beside the guest: over 0.5, under 1.5.
    expect(interferenceOf(sample(quiet, 0, 3), sample(guestBusy, 360, 3.0), asked).reasons).toEqual([
      "load 0.6 per core beside the run's own 1.8 busy CPUs > 0.5",
    ]);
    expect(
      interferenceOf(sample(quiet, 0, 3), sample(guestBusy, 360, 3.0), { ...thresholds, maxLoadPerCore: 1.5 }).flagged,
    ).toBe(false);
    // The same load with nothing of the run's own busy: 1.5 per core, flagged at 0.5.
    expect(interferenceOf(sample(quiet, 0, 3), sample(guestBusy, 0, 3.0, 360), asked).reasons).toEqual(
      expect.arrayContaining(["load 1.5 per core beside the run's own 0 busy CPUs > 0.5"]),
    );
  });

  it('never reports negative shares when the counters did not move', () => {
    const s = sample(STAT_BEFORE, 10, 0);
    expect(interferenceOf(s, { ...s, ownTicks: 20 }, thresholds)).toMatchObject({
      userPercent: 0,
      othersBusyPercent: 0,
      flagged: false,
    });
  });
});
