// How long the processes on the measured path waited for a CPU while a measurement ran. Pure: the
// reading of /proc is in host-sampler.ts.
//
// Why this signal: a measurement is hurt when netperf, netserver, a guest's vCPU threads or the
// delay line are runnable but not running. The machine's busy time (interference.ts) misses that
// when another program takes the CPU those processes needed while the machine as a whole looks
// half idle; the kernel's run delay (/proc/PID/task/TID/schedstat, 2nd field, nanoseconds spent on
// a run queue waiting) measures it directly, thread by thread.

import { ProcFormatError } from './interference.ts';

/** One thread's /proc/PID/task/TID/schedstat: time on a CPU, time waiting on a run queue (ns), timeslices. */
export interface Schedstat {
  runNs: number;
  waitNs: number;
  timeslices: number;
}

/** Parses a schedstat text ("191535222 9066345 404\n"); `where` names the file in the error. */
export function parseSchedstat(text: string, where = '/proc/PID/schedstat'): Schedstat {
  const words = text.trim().split(/\s+/);
  const numbers = words.map(Number);
  if (words.length !== 3 || numbers.some((n, i) => !Number.isSafeInteger(n) || n < 0 || !/^\d+$/.test(words[i]!))) {
    throw new ProcFormatError(
      `${where}: unreadable ${JSON.stringify(text.slice(0, 80))}: expected three whole numbers (run ns, wait ns, timeslices)`,
    );
  }
  return { runNs: numbers[0]!, waitNs: numbers[1]!, timeslices: numbers[2]! };
}

/** One look at a thread of a process on the measured path. */
export interface PathThread {
  /** The thread's process, by its name (comm: netperf, netserver, qemu-system-x86, delay-line). */
  process: string;
  pid: number;
  tid: number;
  /** The kernel's start time of the thread (field 22 of its stat): a reused TID is a new thread. */
  startTicks: string;
  waitNs: number;
}

/** Per thread: its wait at the first look that saw it (0 for a thread born after the baseline) and at the latest. */
export type WaitTally = ReadonlyMap<string, { process: string; first: number; last: number }>;

const threadKey = (t: PathThread) => `${t.tid}@${t.startTicks}`;

/**
 * Adds one look to a tally. The baseline look (taken just before netperf starts) fixes where each
 * thread's wait is counted from; a thread first seen later was born during the measurement (netperf
 * itself, the netserver child that serves the test), so all of its wait counts. A thread that
 * exits between looks keeps the wait of its last look: looks a fraction of a second apart lose
 * little of it.
 */
export function tallyWait(tally: WaitTally, look: readonly PathThread[], baseline: boolean): WaitTally {
  const out = new Map(tally);
  for (const t of look) {
    const key = threadKey(t);
    const seen = out.get(key);
    // The latest name: a thread that exec'd since (taskset or timeout becoming the program they
    // start) is tallied under what it runs now, its earlier wait with it.
    if (seen) out.set(key, { ...seen, process: t.process, last: Math.max(seen.last, t.waitNs) });
    else out.set(key, { process: t.process, first: baseline ? t.waitNs : 0, last: t.waitNs });
  }
  return out;
}

/**
 * The time each process waited for a CPU over the measurement, in percent of its wall time: the
 * waits of all threads of all processes of that name, summed (a QEMU guest's vCPU threads together;
 * netserver's listener and the child serving the test together). 100% means one thread's worth of
 * waiting for the whole measurement.
 */
export function waitPercentByProcess(tally: WaitTally, wallNs: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [process, wait] of Object.entries(waitNsByProcess(tally)))
    out[process] = wallNs > 0 ? Number(((100 * wait) / wallNs).toFixed(1)) : 0;
  return out;
}

/** Per process name: its threads' wait for a CPU counted so far (from the baseline), in ns, names sorted. */
export function waitNsByProcess(tally: WaitTally): Record<string, number> {
  const ns = new Map<string, number>();
  for (const t of tally.values()) ns.set(t.process, (ns.get(t.process) ?? 0) + Math.max(0, t.last - t.first));
  return Object.fromEntries([...ns].sort(([a], [b]) => a.localeCompare(b)));
}

/** The delay line's cumulative counters (its "stats" line): packets released, and of them those released late. */
export interface ReleaseCounters {
  released: number;
  /** Released at least LATE_RELEASE_US after they were due. */
  late: number;
}

/** The share of packets the delay line released late between two reads of its counters, in percent; null without traffic. */
export function lateReleasePercent(before: ReleaseCounters, after: ReleaseCounters): number | null {
  const released = after.released - before.released;
  if (released <= 0) return null;
  return Number(((100 * Math.max(0, after.late - before.late)) / released).toFixed(2));
}

/**
 * The name a process is tallied under, from its /proc/PID/stat text: its comm, with the delay
 * line's build hash (delay-line-<hash>) and QEMU's target (qemu-system-x86_64, cut to 15 characters
 * by the kernel) left out, so thresholds and records name the part of the path, not the build.
 */
export function processName(statText: string): string | null {
  const open = statText.indexOf('(');
  const close = statText.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const comm = statText.slice(open + 1, close);
  if (comm.startsWith('delay-line')) return 'delay-line';
  if (comm.startsWith('qemu-system')) return 'qemu';
  return comm;
}
