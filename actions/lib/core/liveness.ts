// Whether a process is still the one we knew, by PID plus the kernel's start time of the process
// (field 22 of /proc/PID/stat). One rule for everything that outlives a PID: daemons in the PID
// registry and their owners, lock holders, serve processes, the owners of containers and guest
// networks.
//
// The rule:
// - Alive means /proc/PID/stat exists and the process is not a zombie (a zombie has exited; only
//   its exit status waits to be collected).
// - With a recorded start time, the start time must match too: a PID the kernel handed to a new
//   process is not the process we recorded.
// - Liveness is read from /proc, never asked with kill(PID, 0). /proc/PID/stat is readable by every
//   user whoever owns the process, so a live process of another user counts as alive: the EPERM that
//   kill(PID, 0) raises for such a process never turns into "dead", and an unprivileged cleanup can
//   never take a root run's daemons or locks for leftovers.

import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks after boot when the process started. */
  startTicks: string;
}

/** What virtnet reads from one /proc/PID/stat line. */
export interface ProcessStat {
  pid: number;
  ppid: number;
  /** Field 3: R, S, D, Z, ... */
  state: string;
  /** Field 22, kept as text: clock ticks after boot when the process started. */
  startTicks: string;
  /** utime + stime (fields 14 and 15), in clock ticks. */
  cpuTicks: number;
  /** cutime + cstime (fields 16 and 17): what its reaped children used, in clock ticks. */
  reapedChildrenTicks: number;
}

/**
 * Parses a /proc/PID/stat line, or null if it is not one. comm (field 2) is in parentheses and may
 * hold spaces and parentheses, so the fields are counted from the last ')': field 3 (the state) first.
 */
export function parseProcessStat(text: string): ProcessStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number(text.slice(0, text.indexOf('(')).trim());
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const [state, ppidText] = fields;
  const ppid = Number(ppidText);
  const startTicks = fields[19];
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const reapedChildrenTicks = Number(fields[13]) + Number(fields[14]);
  if (
    !state ||
    !startTicks ||
    !Number.isInteger(pid) ||
    !Number.isInteger(ppid) ||
    !Number.isFinite(cpuTicks) ||
    !Number.isFinite(reapedChildrenTicks)
  )
    return null;
  return { pid, ppid, state, startTicks, cpuTicks, reapedChildrenTicks };
}

function readStat(pid: number): ProcessStat | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  try {
    return parseProcessStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** The kernel's start time of a process, or null if there is no such process. */
export function processStartTicks(pid: number): string | null {
  return readStat(pid)?.startTicks ?? null;
}

/** CPU seconds (user + system) a process has used so far, or null if it is gone. USER_HZ is 100 on Linux. */
export function processCpuSeconds(pid: number): number | null {
  const stat = readStat(pid);
  return stat ? stat.cpuTicks / 100 : null;
}

/** The identity of a running process (PID and start time), or null if it is gone. */
export function identityOf(pid: number): ProcessIdentity | null {
  const stat = readStat(pid);
  return stat && stat.state !== 'Z' ? { pid, startTicks: stat.startTicks } : null;
}

/** This process's identity: what locks, the PID registry and container labels record as the owner. */
export function ownIdentity(): ProcessIdentity {
  const own = identityOf(process.pid);
  if (!own) throw new Error(`/proc/${process.pid}/stat is unreadable: virtnet needs Linux with /proc mounted`);
  return own;
}

/**
 * Whether `pid` is a live process and, when a start time is given, the same process as recorded.
 * A null or absent start time checks the PID alone (records written before start times were kept).
 */
export function isAlive(pid: number, startTicks: string | null = null): boolean {
  const stat = readStat(pid);
  if (!stat || stat.state === 'Z') return false;
  return startTicks === null || stat.startTicks === startTicks;
}
