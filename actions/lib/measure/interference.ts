// What the host did while a measurement ran: CPU time shares from two /proc/stat samples, the
// CPU time of the run's own processes from their /proc/PID/stat, the load average at the end, and
// whether any of it crosses the plan's thresholds. Pure: the reading of /proc is in host-sampler.ts.

import { parseProcessStat } from '../core/liveness.ts';
import type { InterferenceThresholds } from '../plan/plan.ts';

/** The machine's CPU time by kind, in clock ticks (USER_HZ), summed over all CPUs (/proc/stat's "cpu" line). */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

/** The worst stretch of `windowMs` within one measurement (peaks.ts), per share (each share's worst may be another stretch). */
export interface Peak {
  windowMs: number;
  othersBusyPercent: number;
  stealPercent: number;
  /**
   * Per path process: its worst wait for a CPU over a stretch in which others kept more than
   * `pathOthersBusyPercent` of the machine busy, in percent of that stretch (the path's contention
   * with itself is not a disturbance: interference.ts, pathReasons).
   */
  waitPercent: Record<string, number>;
  pathOthersBusyPercent: number;
}

/** One look at the host: taken just before and just after each netperf call. */
export interface HostSample {
  cpu: CpuTimes;
  /** Logical CPUs (the "cpuN" lines of /proc/stat). */
  cores: number;
  /** CPU ticks used so far by the run's own processes (this process, its descendants, those it reaped). */
  ownTicks: number;
  /** CPU ticks used so far by every process that is not the run's own, with those they reaped (othersTicks). */
  othersTicks: number;
  /** Of othersTicks, those of processes running niced (nice above 0). */
  nicedOthersTicks: number;
  /** The 1-minute load average (/proc/loadavg). */
  loadAverage1: number;
  /**
   * Whether a niced process yields to the path: true when the kernel schedules without autogroups
   * (/proc/sys/kernel/sched_autogroup_enabled 0). With autogroups each session gets an equal share
   * whatever its processes' nice values, so a nice 19 build in another terminal takes a whole core.
   */
  niceYields?: boolean;
}

/** What is recorded with a measurement (measurementRecordSchema's `interference`). */
export interface Interference {
  userPercent: number;
  systemPercent: number;
  iowaitPercent: number;
  stealPercent: number;
  /** CPU time the kernel charged to processes other than the run's own, plus steal; niced processes left out where nice yields (HostSample.niceYields). */
  othersBusyPercent: number;
  loadAverage1: number;
  cores: number;
  /** Per process on the measured path: time it waited for a CPU, in percent of the measurement's wall time. */
  waitPercent?: Record<string, number>;
  /** Share of the delay line's releases at least 100 us late, in percent; null: no delay line or no traffic. */
  lateReleasePercent?: number | null;
  /** The worst stretch within the measurement (plan interference.peakWindowMs). */
  peak?: Peak;
  flagged: boolean;
  reasons: string[];
}

/** What the measured path went through during one netperf call (recorded in the record's interference). */
export interface PathDisturbance {
  /** Per process on the path: time waiting for a CPU, in percent of the measurement's wall time. */
  waitPercent: Record<string, number>;
  /** Share of the delay line's releases at least 100 us late, in percent; null without a delay line or traffic. */
  lateReleasePercent: number | null;
  /** The worst stretch, where the plan asks for one (peaks.ts). */
  peak?: Peak;
}

export class ProcFormatError extends Error {
  override name = 'ProcFormatError';
}

const CPU_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** The aggregate CPU times and the number of CPUs of a /proc/stat text. */
export function parseProcStat(text: string): { cpu: CpuTimes; cores: number } {
  const lines = text.split('\n');
  const total = lines.find((l) => /^cpu\s/.test(l));
  if (total === undefined)
    throw new ProcFormatError(`/proc/stat: no "cpu" line in ${JSON.stringify(text.slice(0, 80))}`);
  const numbers = total.trim().split(/\s+/).slice(1).map(Number);
  // Kernels before 2.6.11 had no steal column; guest and guest_nice (after steal) are already in user and nice.
  if (numbers.length < 7 || numbers.some((n) => !Number.isFinite(n) || n < 0))
    throw new ProcFormatError(`/proc/stat: unreadable "cpu" line ${JSON.stringify(total)}`);
  const cpu = Object.fromEntries(CPU_FIELDS.map((f, i) => [f, numbers[i] ?? 0])) as unknown as CpuTimes;
  const cores = lines.filter((l) => /^cpu\d+\s/.test(l)).length;
  return { cpu, cores: Math.max(1, cores) };
}

/** The 1-minute load average of a /proc/loadavg text ("2.93 1.98 2.28 2/97 15600"). */
export function parseLoadAverage(text: string): number {
  const word = text.trim().split(/\s+/)[0] ?? '';
  const first = Number(word);
  if (!/^\d+(\.\d+)?$/.test(word))
    throw new ProcFormatError(`/proc/loadavg: unreadable ${JSON.stringify(text.slice(0, 80))}`);
  return first;
}

/** A process's parent and the CPU ticks it and its reaped children used (utime+stime+cutime+cstime). */
export interface ProcessTicks {
  pid: number;
  ppid: number;
  ticks: number;
  /** Its nice value (field 19); absent: 0. */
  nice?: number;
}

/** Reads one /proc/PID/stat line (core/liveness.ts parses it): a process's ticks with those of its reaped children. */
export function parsePidStat(text: string): ProcessTicks {
  const stat = parseProcessStat(text);
  if (!stat) throw new ProcFormatError(`/proc/PID/stat: unreadable ${JSON.stringify(text.slice(0, 80))}`);
  // Field 19, counted from the last ')' as parseProcessStat does (field 3 is the first after it).
  const nice = Number(
    text
      .slice(text.lastIndexOf(')') + 1)
      .trim()
      .split(/\s+/)[16],
  );
  return {
    pid: stat.pid,
    ppid: stat.ppid,
    ticks: stat.cpuTicks + stat.reapedChildrenTicks,
    ...(Number.isFinite(nice) ? { nice } : {}),
  };
}

/**
 * CPU ticks of the processes rooted at `roots` and all their descendants (each counted once),
 * including what reaped children left in their parents' cutime and cstime.
 */
export function treeTicks(processes: readonly ProcessTicks[], roots: readonly number[]): number {
  const tree = treePids(processes, roots);
  return processes.reduce((sum, p) => sum + (tree.has(p.pid) ? p.ticks : 0), 0);
}

/** The PIDs of the processes rooted at `roots` and all their descendants. */
export function treePids(processes: readonly ProcessTicks[], roots: readonly number[]): Set<number> {
  const children = new Map<number, ProcessTicks[]>();
  for (const p of processes) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const known = new Set(processes.map((p) => p.pid));
  const seen = new Set<number>();
  const queue = roots.filter((pid) => known.has(pid));
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    for (const c of children.get(pid) ?? []) queue.push(c.pid);
  }
  return seen;
}

/** kthreadd: every kernel thread is its child. */
export const KERNEL_THREADS_PARENT = 2;

/**
 * The run's own CPU ticks: the processes rooted at `roots` (this process, the delay line, the
 * environment's) and the kernel's threads. Kernel threads are the path's packet work, like the
 * softirq time the kernel charges to the path's own processes: when the path keeps both CPUs busy (UDP at `-r 50`
 * through the delay line), the kernel moves softirq work into ksoftirqd and the delay line's
 * re-injected packets into kworkers, 11-17% of the machine in every 500 ms with nothing else
 * running, which as others' time crossed the path-wait gate of 15%. Another job shows as its own
 * processes' time, not theirs.
 */
export function ownTicks(processes: readonly ProcessTicks[], roots: readonly number[]): number {
  return treeTicks(processes, [...roots, KERNEL_THREADS_PARENT]);
}

/**
 * The CPU ticks of every process that is not the run's own (ownTicks's tree), and of those the
 * niced ones: other programs' CPU time, counted where the kernel charges it, to each process.
 */
export function othersTicks(
  processes: readonly ProcessTicks[],
  roots: readonly number[],
): { ticks: number; nicedTicks: number } {
  const own = treePids(processes, [...roots, KERNEL_THREADS_PARENT]);
  let ticks = 0;
  let nicedTicks = 0;
  for (const p of processes) {
    if (own.has(p.pid)) continue;
    ticks += p.ticks;
    if ((p.nice ?? 0) > 0) nicedTicks += p.ticks;
  }
  return { ticks, nicedTicks };
}

const percent = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : 0);
const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** What two looks at the machine's CPU time tell (HostSample, or a path watcher's look). */
interface CpuLook {
  cpu: CpuTimes;
  ownTicks: number;
  othersTicks: number;
  nicedOthersTicks: number;
  niceYields?: boolean;
}

/**
 * The CPU time between two looks by kind, its total, the run's own part, and others' busy time in
 * percent of the total (unrounded): over a whole measurement (interferenceOf) and over a stretch
 * of it (peaks.ts) alike.
 */
export function cpuBetween(
  before: CpuLook,
  after: CpuLook,
): { d: CpuTimes; total: number; own: number; othersBusy: number } {
  const d = Object.fromEntries(
    CPU_FIELDS.map((f) => [f, Math.max(0, after.cpu[f] - before.cpu[f])]),
  ) as unknown as CpuTimes;
  const total = CPU_FIELDS.reduce((sum, f) => sum + d[f], 0);
  // Others' time is what the kernel charged to other processes, plus steal; not the machine's
  // busy time less the run's own. The two differ by the packet work the kernel does in softirq
  // context on top of a running process: /proc/stat books it as softirq, the process's stime as
  // its own. Measured during TCP at line rate on the testbed: the run's own processes were
  // charged 41 ticks in every 200 ms while user + system grew by 17, so "busy less own" sat 25-30%
  // of the machine below zero, and a busy loop that overlapped a measurement by a few hundred ms,
  // or a memory hog beside CPU-bound UDP for all of it, read 0% (bench (j), 2026-12-08).
  // Niced processes are left out where nice works across sessions (no autogroups): at nice 19 a
  // process gets 15/1024 of a CPU its normal-priority contenders want, so it fills idle time
  // rather than taking it from the path; should it hurt the path after all, the path's own wait
  // for a CPU (pathReasons) is what shows it. With autogroups it counts like any other.
  const niceYields = before.niceYields === true && after.niceYields === true;
  const others =
    after.othersTicks -
    before.othersTicks -
    (niceYields ? after.nicedOthersTicks - before.nicedOthersTicks : 0) +
    d.steal;
  const own = Math.max(0, after.ownTicks - before.ownTicks);
  return { d, total, own, othersBusy: Math.max(0, Math.min(100, percent(others, total))) };
}

/**
 * The interference over one measurement, from the samples before and after it, flagged against
 * the plan's thresholds. Shares are of the machine's CPU time (all CPUs together).
 */
export function interferenceOf(
  before: HostSample,
  after: HostSample,
  thresholds: InterferenceThresholds,
  path: PathDisturbance | null = null,
): Interference {
  const { d, total, own, othersBusy } = cpuBetween(before, after);
  const result = {
    userPercent: round(percent(d.user + d.nice, total), 1),
    systemPercent: round(percent(d.system + d.irq + d.softirq, total), 1),
    iowaitPercent: round(percent(d.iowait, total), 1),
    stealPercent: round(percent(d.steal, total), 1),
    othersBusyPercent: round(othersBusy, 1),
    loadAverage1: after.loadAverage1,
    cores: after.cores,
  };
  const reasons: string[] = [];
  if (result.stealPercent > thresholds.maxStealPercent)
    reasons.push(`steal ${result.stealPercent}% > ${thresholds.maxStealPercent}%`);
  if (result.othersBusyPercent > thresholds.maxOthersBusyPercent)
    reasons.push(`others busy ${result.othersBusyPercent}% > ${thresholds.maxOthersBusyPercent}%`);
  if (thresholds.maxLoadPerCore !== null) {
    // The load average counts the run's own runnable threads too: take away the CPUs they kept busy.
    const ownCores = total > 0 ? (own * after.cores) / total : 0;
    const perCore = Math.max(0, after.loadAverage1 - ownCores) / Math.max(1, after.cores);
    if (perCore > thresholds.maxLoadPerCore)
      reasons.push(
        `load ${round(perCore, 2)} per core beside the run's own ${round(ownCores, 1)} busy CPUs > ${thresholds.maxLoadPerCore}`,
      );
  }
  if (path === null) return { ...result, flagged: reasons.length > 0, reasons };
  reasons.push(...pathReasons(path, thresholds, result.othersBusyPercent));
  if (path.peak !== undefined) reasons.push(...peakReasons(path.peak, thresholds, reasons));
  return {
    ...result,
    waitPercent: path.waitPercent,
    lateReleasePercent: path.lateReleasePercent,
    ...(path.peak === undefined ? {} : { peak: path.peak }),
    flagged: reasons.length > 0,
    reasons: reasons.slice(0, 10),
  };
}

/**
 * What the worst stretch crossed that the whole did not already say (one reason per threshold).
 * The path's wait in the peak is only over stretches where others kept more than
 * pathOthersBusyPercent busy, so it is judged as it stands.
 */
export function peakReasons(
  peak: Peak,
  thresholds: Pick<InterferenceThresholds, 'maxStealPercent' | 'maxOthersBusyPercent' | 'maxWaitPercent'> &
    Partial<Pick<InterferenceThresholds, 'maxPeakOthersBusyPercent'>>,
  already: readonly string[],
): string[] {
  const reasons: string[] = [];
  const over = `over a ${peak.windowMs} ms stretch`;
  if (peak.stealPercent > thresholds.maxStealPercent && !already.some((r) => r.startsWith('steal ')))
    reasons.push(`steal ${peak.stealPercent}% ${over} > ${thresholds.maxStealPercent}%`);
  const maxOthers = thresholds.maxPeakOthersBusyPercent ?? thresholds.maxOthersBusyPercent;
  if (peak.othersBusyPercent > maxOthers && !already.some((r) => r.startsWith('others busy ')))
    reasons.push(`others busy ${peak.othersBusyPercent}% ${over} > ${maxOthers}%`);
  if (thresholds.maxWaitPercent !== null) {
    for (const [process, wait] of Object.entries(peak.waitPercent)) {
      if (wait <= thresholds.maxWaitPercent || already.some((r) => r.startsWith(`${process} waited`))) continue;
      reasons.push(
        `${process} waited for a CPU ${wait}% of a ${peak.windowMs} ms stretch > ${thresholds.maxWaitPercent}% with others busy > ${peak.pathOthersBusyPercent}%`,
      );
    }
  }
  return reasons;
}

/**
 * The thresholds the measured path crossed: a process that waited too long for a CPU, a delay line
 * that released late, while other processes kept more than `pathOthersBusyPercent` of the machine
 * busy. The condition is what tells a disturbance from the path's own contention: at UDP -r 50
 * the delay line, netperf and netserver keep both cores busy among themselves, so on a quiet
 * machine the delay line waits 40-50% of the time and a third of its releases are late while
 * others keep 0-20% busy; a disturbance is another program taking CPU from the path.
 */
export function pathReasons(
  path: PathDisturbance,
  thresholds: Pick<InterferenceThresholds, 'maxWaitPercent' | 'maxLateReleasePercent' | 'pathOthersBusyPercent'>,
  othersBusyPercent: number,
): string[] {
  if (othersBusyPercent <= thresholds.pathOthersBusyPercent) return [];
  const reasons: string[] = [];
  const beside = `with others busy ${othersBusyPercent}% > ${thresholds.pathOthersBusyPercent}%`;
  if (thresholds.maxWaitPercent !== null) {
    for (const [process, wait] of Object.entries(path.waitPercent)) {
      if (wait > thresholds.maxWaitPercent)
        reasons.push(`${process} waited for a CPU ${wait}% of the time > ${thresholds.maxWaitPercent}% ${beside}`);
    }
  }
  const late = path.lateReleasePercent;
  if (thresholds.maxLateReleasePercent !== null && late !== null && late > thresholds.maxLateReleasePercent) {
    reasons.push(
      `delay line released ${late}% of packets >= 100 us late > ${thresholds.maxLateReleasePercent}% ${beside}`,
    );
  }
  return reasons;
}

/**
 * Whether one look at the host between two samples found it quiet enough to measure again:
 * others' busy time at most maxOthersBusyPercent and steal at most maxStealPercent. Taken while
 * the environment waits, idle, before a retake; the whole measurement's bar, not the stretch's,
 * because the path itself is idle then, so any disturbance has the CPUs to itself (a busy loop on
 * one of 2 cores reads 50%).
 */
export function quietLook(
  before: CpuLook,
  after: CpuLook,
  thresholds: Pick<InterferenceThresholds, 'maxStealPercent' | 'maxOthersBusyPercent'>,
): boolean {
  const { d, total, othersBusy } = cpuBetween(before, after);
  return (
    round(othersBusy, 1) <= thresholds.maxOthersBusyPercent &&
    round(percent(d.steal, total), 1) <= thresholds.maxStealPercent
  );
}
