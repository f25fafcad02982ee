// The CPU cost of one measurement: the CPU time the server side of the environment spent while
// netperf ran (its cgroups' usage, its processes' utime+stime), per gigabyte delivered; beside it
// the client's netperf and the machine's irq and softirq time. Pure: the files are read through
// the `read` function given to lookAtCpu (cpu-sampler.ts passes the real one).
//
// What the kernel allows for softirq: packet processing runs in softirq context on whichever CPU
// raised it, usually inside the task that sent or received (the client's netperf, the delay
// line, netserver, a QEMU thread) or in ksoftirqd; no counter says which environment it was for.
// With tick-based accounting and no CONFIG_IRQ_TIME_ACCOUNTING, that time is charged to the task
// it interrupted (its stime and its cgroup's usage) and also counted in /proc/stat's softirq; with
// CONFIG_IRQ_TIME_ACCOUNTING it is taken out of the task's time. So the machine's softirq and irq
// time over the window is recorded beside the server's time, never added to it, with which of the
// two the kernel does (softirqInTaskTime).

import type { CpuScope } from './environment.ts';
import { parseProcessStat } from '../core/liveness.ts';
import { parseProcStat, ProcFormatError } from './interference.ts';
import type { NetperfMetrics } from './netperf.ts';

/** Clock ticks per second of /proc's CPU times (USER_HZ): 100 on every Linux architecture's ABI. */
export const USER_HZ = 100;
const BYTES_PER_GIGABYTE = 1e9;

/** A process's identity (its start time, so a reused PID is not taken for it) and CPU time so far. */
export interface ProcessCpu {
  startTicks: string;
  /** utime+stime of all its threads, dead ones too, in USER_HZ ticks. */
  ticks: number;
  /**
   * Each live thread's time on a CPU in nanoseconds (/proc/PID/task/TID/schedstat), keyed
   * `TID@start`; null when not readable. Finer than the ticks, but blind to threads that ended.
   */
  threadNs: ReadonlyMap<string, number> | null;
}

/** One look at the CPU time so far: taken when netperf starts and when it returns. */
export interface CpuLook {
  /** A monotonic clock, in nanoseconds. */
  atNs: number;
  /** Per cgroup of the scope: its CPU usage so far in nanoseconds; null: it could not be read. */
  cgroupNs: ReadonlyMap<string, number | null>;
  /** Per PID of the scope: its threads' utime+stime so far; null: no such process. */
  pidCpu: ReadonlyMap<number, ProcessCpu | null>;
  /** CPU ticks of this process's reaped children: netperf, which it waits for. */
  clientTicks: number;
  /** The machine's irq and softirq ticks, all CPUs together (/proc/stat). */
  irqTicks: number;
  softirqTicks: number;
}

/** The edge that takes the looks (cpu-sampler.ts reads this host). */
export interface CpuSampler {
  /** One look at the scope, the client and the machine; null where /proc cannot be read (not Linux). */
  look(scope: CpuScope): CpuLook | null;
  /** How the kernel accounts softirq time (softirqInTaskTime), read once. */
  softirqInTaskTime(): boolean | null;
}

/** What is recorded with a measurement (measurementRecordSchema's `cpu`). */
export interface CpuCost {
  scope: { cgroups: string[]; pids: number[] };
  wallSeconds: number;
  deliveredBytes: number;
  /** The scope's CPU time over the window; null: it could not be read at both ends (`unreadable` says why). */
  serverSeconds: number | null;
  serverSecondsPerGigabyte: number | null;
  unreadable: string | null;
  /** The client's netperf. */
  clientSeconds: number;
  clientSecondsPerGigabyte: number | null;
  hostSoftirqSeconds: number;
  hostIrqSeconds: number;
  /** Whether this kernel charges softirq time to the task it interrupted; null: its configuration could not be read. */
  softirqInTaskTime: boolean | null;
}

/** The files a cgroup's usage may be read from, first that exists wins: cgroup v1 cpuacct, then v2. */
export function cgroupUsageFiles(path: string): { file: string; kind: 'v1' | 'v2' }[] {
  const relative = path.replace(/^\/+/, '');
  if (relative.split('/').some((part) => part === '..' || part === '.'))
    throw new ProcFormatError(
      `cgroup path ${JSON.stringify(path)}: expected a path below the hierarchy, without . or ..`,
    );
  return [
    { file: `/sys/fs/cgroup/cpuacct/${relative}/cpuacct.usage`, kind: 'v1' },
    { file: `/sys/fs/cgroup/cpu,cpuacct/${relative}/cpuacct.usage`, kind: 'v1' },
    { file: `/sys/fs/cgroup/${relative}/cpu.stat`, kind: 'v2' },
  ];
}

/** A cgroup's CPU usage in nanoseconds from cpuacct.usage (v1, ns) or cpu.stat's usage_usec (v2). */
export function parseCgroupUsageNs(text: string, kind: 'v1' | 'v2', where: string): number {
  const word = kind === 'v1' ? text.trim() : (/^usage_usec\s+(\d+)$/m.exec(text)?.[1] ?? '');
  if (!/^\d+$/.test(word))
    throw new ProcFormatError(
      `${where}: unreadable ${JSON.stringify(text.slice(0, 80))}: expected ${kind === 'v1' ? 'a whole number of nanoseconds' : 'a "usage_usec N" line'}`,
    );
  return kind === 'v1' ? Number(word) : Number(word) * 1000;
}

/**
 * The cgroup a process's CPU usage is accounted in, from its /proc/PID/cgroup text: the cgroup v1
 * hierarchy with the cpuacct controller if there is one, else the cgroup v2 path ("0::/...").
 * Null when neither is there or the process sits at the root (its usage would be the whole machine's).
 */
export function cpuCgroupOf(procCgroupText: string): string | null {
  const lines = procCgroupText.split('\n').map((l) => /^(\d+):([^:]*):(.*)$/.exec(l.trim()));
  const v1 = lines.find((m) => m && m[2]!.split(',').includes('cpuacct'));
  const v2 = lines.find((m) => m && m[1] === '0' && m[2] === '');
  const path = (v1 ?? v2)?.[3]?.replace(/^\/+/, '') ?? '';
  return path === '' ? null : path;
}

/**
 * Reads one look through `read` (a file's text, or null if it cannot be read). Throws
 * ProcFormatError when /proc/stat or this process's own stat is unreadable; a scope's cgroup or
 * process that cannot be read is null in the look (the cost then says so).
 */
export function lookAtCpu(
  scope: CpuScope,
  read: (file: string) => string | null,
  atNs: number,
  ownPid: number,
  list: (dir: string) => readonly string[] | null = () => null,
): CpuLook {
  const procStat = read('/proc/stat');
  if (procStat === null) throw new ProcFormatError('/proc/stat: cannot be read');
  const { cpu } = parseProcStat(procStat);
  const ownText = read(`/proc/${ownPid}/stat`);
  const own = ownText === null ? null : parseProcessStat(ownText);
  if (own === null) throw new ProcFormatError(`/proc/${ownPid}/stat: cannot be read or parsed`);
  const cgroupNs = new Map<string, number | null>();
  for (const path of scope.cgroups) {
    let usage: number | null = null;
    for (const { file, kind } of cgroupUsageFiles(path)) {
      const text = read(file);
      if (text === null) continue;
      usage = parseCgroupUsageNs(text, kind, file);
      break;
    }
    cgroupNs.set(path, usage);
  }
  const pidCpu = new Map<number, ProcessCpu | null>();
  for (const pid of scope.pids) {
    const text = read(`/proc/${pid}/stat`);
    const stat = text === null ? null : parseProcessStat(text);
    pidCpu.set(
      pid,
      stat === null ? null : { startTicks: stat.startTicks, ticks: stat.cpuTicks, threadNs: threadNs(pid, read, list) },
    );
  }
  return {
    atNs,
    cgroupNs,
    pidCpu,
    clientTicks: own.reapedChildrenTicks,
    irqTicks: cpu.irq,
    softirqTicks: cpu.softirq,
  };
}

/** Each live thread's run time of a process, or null when a thread's could not be read. */
function threadNs(
  pid: number,
  read: (file: string) => string | null,
  list: (dir: string) => readonly string[] | null,
): Map<string, number> | null {
  const tids = list(`/proc/${pid}/task`);
  if (tids === null) return null;
  const out = new Map<string, number>();
  for (const tid of tids.filter((t) => /^\d+$/.test(t))) {
    const stat = read(`/proc/${pid}/task/${tid}/stat`);
    const schedstat = read(`/proc/${pid}/task/${tid}/schedstat`);
    const start = stat === null ? null : parseProcessStat(stat)?.startTicks;
    const runNs = schedstat === null ? null : /^(\d+)\s/.exec(schedstat.trim() + ' ')?.[1];
    // A thread that ended between the listing and the reads: the ticks will count the process.
    if (start == null || runNs == null) return null;
    out.set(`${tid}@${start}`, Number(runNs));
  }
  return out;
}

/**
 * Whether the kernel charges irq and softirq time to the task it interrupted, from its build
 * configuration (/proc/config.gz, /boot/config-RELEASE): true unless CONFIG_IRQ_TIME_ACCOUNTING
 * (or full virtual CPU accounting, which implies it) is set; null for a text with no accounting line.
 */
export function softirqInTaskTime(configText: string): boolean | null {
  if (/^CONFIG_IRQ_TIME_ACCOUNTING=y$/m.test(configText)) return false;
  if (/^CONFIG_VIRT_CPU_ACCOUNTING_NATIVE=y$/m.test(configText)) return false;
  if (
    /^CONFIG_TICK_CPU_ACCOUNTING=y$/m.test(configText) ||
    /^# CONFIG_IRQ_TIME_ACCOUNTING is not set$/m.test(configText)
  )
    return true;
  return null;
}

/**
 * The bytes a measurement delivered: the receiver's throughput over netperf's elapsed time (for
 * UDP, what arrived, not what was sent).
 */
export function deliveredBytes(metrics: Pick<NetperfMetrics, 'throughputMbps' | 'elapsedSeconds'>): number {
  return Math.round(((metrics.throughputMbps * 1e6) / 8) * metrics.elapsedSeconds);
}

/** Seconds per gigabyte (10^9 bytes) delivered; null when nothing was delivered. */
export function perGigabyte(seconds: number | null, bytes: number): number | null {
  if (seconds === null || bytes <= 0) return null;
  return round((seconds * BYTES_PER_GIGABYTE) / bytes, 6);
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));
const ticksToSeconds = (ticks: number) => round(Math.max(0, ticks) / USER_HZ, 2);

/**
 * A process's CPU time between two looks, in nanoseconds: its threads' run times (ns) when every
 * thread of the first look is still there at the second (those born between count whole), else
 * its utime+stime, which keeps ended threads but moves in 1/USER_HZ steps.
 */
export function processNs(start: ProcessCpu, end: ProcessCpu): number {
  const a = start.threadNs;
  const b = end.threadNs;
  if (a !== null && b !== null && [...a.keys()].every((k) => b.has(k))) {
    let ns = 0;
    for (const [k, v] of b) ns += Math.max(0, v - (a.get(k) ?? 0));
    return ns;
  }
  return (Math.max(0, end.ticks - start.ticks) * 1e9) / USER_HZ;
}

/**
 * The scope's CPU time between two looks, in seconds, or why it cannot be known: a cgroup that
 * could not be read at either end, a process that ended or whose PID now names another process.
 */
export function scopeSeconds(before: CpuLook, after: CpuLook): { seconds: number | null; unreadable: string | null } {
  const problems: string[] = [];
  let ns = 0;
  for (const [path, start] of before.cgroupNs) {
    const end = after.cgroupNs.get(path) ?? null;
    if (start === null || end === null) problems.push(`cgroup ${path}: its CPU usage could not be read`);
    else ns += Math.max(0, end - start);
  }
  for (const [pid, start] of before.pidCpu) {
    const end = after.pidCpu.get(pid) ?? null;
    if (start === null) problems.push(`PID ${pid}: no such process when netperf started`);
    else if (end === null || end.startTicks !== start.startTicks)
      problems.push(`PID ${pid}: the process ended during the measurement`);
    else ns += processNs(start, end);
  }
  if (before.cgroupNs.size === 0 && before.pidCpu.size === 0)
    problems.push('the environment names no cgroup or process of its server side');
  if (problems.length > 0) return { seconds: null, unreadable: problems.join('; ') };
  return { seconds: round(ns / 1e9, 6), unreadable: null };
}

/** The CPU cost of one measurement from the looks at netperf's start and end. */
export function cpuCostOf(
  scope: CpuScope,
  before: CpuLook,
  after: CpuLook,
  bytes: number,
  inTaskTime: boolean | null,
): CpuCost {
  const server = scopeSeconds(before, after);
  const clientSeconds = ticksToSeconds(after.clientTicks - before.clientTicks);
  return {
    scope: { cgroups: [...scope.cgroups], pids: [...scope.pids] },
    wallSeconds: round(Math.max(0, after.atNs - before.atNs) / 1e9, 3),
    deliveredBytes: bytes,
    serverSeconds: server.seconds,
    serverSecondsPerGigabyte: perGigabyte(server.seconds, bytes),
    unreadable: server.unreadable,
    clientSeconds,
    clientSecondsPerGigabyte: perGigabyte(clientSeconds, bytes),
    hostSoftirqSeconds: ticksToSeconds(after.softirqTicks - before.softirqTicks),
    hostIrqSeconds: ticksToSeconds(after.irqTicks - before.irqTicks),
    softirqInTaskTime: inTaskTime,
  };
}
