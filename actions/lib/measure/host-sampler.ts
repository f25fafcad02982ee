// Sampling the host around each measurement: /proc/stat, /proc/loadavg and the CPU time of the
// run's own processes (/proc/PID/stat of this process and its descendants); and, while netperf
// runs, how long each process on the measured path waited for a CPU (/proc/PID/task/TID/schedstat)
// and how late the delay line released packets. The arithmetic is in interference.ts and
// schedstat.ts. On the embedded testbed netperf and netserver share this host, so one sample
// covers both ends; on a runner pair this samples the client's host only (the server's host is
// not sampled).

import { readdirSync, readFileSync } from 'node:fs';
import {
  type HostSample,
  parseLoadAverage,
  parsePidStat,
  parseProcStat,
  type ProcessTicks,
  othersTicks,
  ownTicks,
} from './interference.ts';
import {
  lateReleasePercent,
  parseSchedstat,
  type PathThread,
  processName,
  type ReleaseCounters,
  tallyWait,
  type WaitTally,
  waitNsByProcess,
  waitPercentByProcess,
} from './schedstat.ts';
import { type Look, peakOf } from './peaks.ts';
import type { PathDisturbance } from './interference.ts';
import { parseProcessStat } from '../core/liveness.ts';

interface ProcessEntry extends ProcessTicks {
  name: string;
  startTicks: string;
}

function processes(): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const stat = parseProcessStat(text);
      if (stat === null) continue;
      out.push({ ...parsePidStat(text), name: processName(text) ?? '?', startTicks: stat.startTicks });
    } catch {
      // Gone between the listing and the read, or not ours to read: it is not one of ours then.
    }
  }
  return out;
}

/**
 * A sampler of this host. `ownPids`: processes that belong to the measurement though this process
 * did not start them (the testbed's delay line), and `pathPids` per call (the environment's own,
 * such as a container's netserver); their CPU time is not counted as interference.
 * Returns null where /proc cannot be read (not Linux): the record then carries no interference.
 */
export function hostSampler(
  ownPids: () => readonly number[] = () => [],
): (pathPids?: readonly number[]) => HostSample | null {
  return (pathPids = []) => {
    try {
      const { cpu, cores } = parseProcStat(readFileSync('/proc/stat', 'utf8'));
      // The environment's own processes (a container's netserver) are the run's too, not others'.
      const all = processes();
      const roots = [process.pid, ...ownPids(), ...pathPids];
      const others = othersTicks(all, roots);
      return {
        cpu,
        cores,
        ownTicks: ownTicks(all, roots),
        othersTicks: others.ticks,
        nicedOthersTicks: others.nicedTicks,
        loadAverage1: parseLoadAverage(readFileSync('/proc/loadavg', 'utf8')),
        niceYields: !autogroupsEnabled(),
      };
    } catch {
      return null;
    }
  };
}

/** Whether the kernel groups processes by session for scheduling (absent: a kernel built without it). */
function autogroupsEnabled(): boolean {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() !== '0';
  } catch {
    return false;
  }
}

/** The processes rooted at `roots` and all their descendants, each once. */
function descendants(all: readonly ProcessEntry[], roots: readonly number[]): ProcessEntry[] {
  const children = new Map<number, ProcessEntry[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const seen = new Map<number, ProcessEntry>();
  const queue = roots.filter((pid) => byPid.has(pid));
  for (let guard = 0; queue.length > 0 && guard < 100_000; guard++) {
    const pid = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.set(pid, byPid.get(pid)!);
    for (const c of children.get(pid) ?? []) queue.push(c.pid);
  }
  return [...seen.values()];
}

/**
 * Every thread of the measured path and its wait so far: this process's descendants (netperf, a
 * native netserver, a QEMU guest), the processes that belong to the run though it did not start
 * them (`ownPids`: the delay line) and those an environment names (`pathPids`: a container's
 * netserver), with their descendants (netserver's child serving the test). This process itself
 * (the CLI, which only waits for netperf) is not on the path.
 */
function lookAtPath(roots: readonly number[]): {
  threads: PathThread[];
  ticks: { ownTicks: number; othersTicks: number; nicedOthersTicks: number };
} {
  const all = processes();
  const path = descendants(all, [process.pid, ...roots]).filter((p) => p.pid !== process.pid);
  const threads: PathThread[] = [];
  for (const p of path) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p.pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const { waitNs } = parseSchedstat(
          readFileSync(`/proc/${p.pid}/task/${tid}/schedstat`, 'utf8'),
          `/proc/${p.pid}/task/${tid}/schedstat`,
        );
        threads.push({ process: p.name, pid: p.pid, tid: Number(tid), startTicks: p.startTicks, waitNs });
      } catch {
        // The thread ended between the listing and the read: its last look keeps its wait.
      }
    }
  }
  // The run's own CPU time and others' as hostSampler counts them (this process is the run's), for the stretches' shares.
  const others = othersTicks(all, [process.pid, ...roots]);
  return {
    threads,
    ticks: {
      ownTicks: ownTicks(all, [process.pid, ...roots]),
      othersTicks: others.ticks,
      nicedOthersTicks: others.nicedTicks,
    },
  };
}

export interface PathWatch {
  /** Ends the watch (after netperf returned) and gives what the path went through. */
  stop(): Promise<PathDisturbance>;
}

/**
 * Watches the measured path: a baseline look before netperf starts, a look every `intervalMs`
 * while it runs (netperf and netserver's test child exit with the test, so their waits are taken
 * while they live), a last look at the end; and the delay line's release counters (`releases`)
 * before and after. With `peak`, each look also reads /proc/stat and the run's own CPU
 * time, and the worst stretch of that length is returned too (peaks.ts). Returns null where /proc
 * cannot be read.
 */
export function pathWatcher(
  options: {
    ownPids?: () => readonly number[];
    releases?: () => Promise<ReleaseCounters | null>;
    intervalMs?: number;
    /** The stretch to judge (plan interference.peakWindowMs) and the others' share that gates the path's wait. */
    peak?: { windowMs: number; pathOthersBusyPercent: number } | null;
  } = {},
): (pathPids: readonly number[]) => Promise<PathWatch | null> {
  const intervalMs = options.intervalMs ?? 200;
  const peakSettings = options.peak ?? null;
  return async (pathPids) => {
    const roots = () => [...(options.ownPids?.() ?? []), ...pathPids];
    let tally: WaitTally;
    const looks: Look[] = [];
    const keepLook = (ticks: { ownTicks: number; othersTicks: number; nicedOthersTicks: number }) => {
      if (peakSettings === null) return;
      const { cpu } = parseProcStat(readFileSync('/proc/stat', 'utf8'));
      looks.push({
        atNs: Number(process.hrtime.bigint()),
        cpu,
        ...ticks,
        niceYields: !autogroupsEnabled(),
        waitNs: waitNsByProcess(tally),
      });
    };
    try {
      const first = lookAtPath(roots());
      tally = tallyWait(new Map(), first.threads, true);
      keepLook(first.ticks);
    } catch {
      return null;
    }
    const releasesBefore = (await options.releases?.()) ?? null;
    const started = process.hrtime.bigint();
    const look = () => {
      try {
        const seen = lookAtPath(roots());
        tally = tallyWait(tally, seen.threads, false);
        keepLook(seen.ticks);
      } catch {
        // A look that could not be taken leaves the tally as it was; the next one catches up.
      }
    };
    const timer = setInterval(look, intervalMs);
    return {
      stop: async () => {
        clearInterval(timer);
        look();
        const wallNs = Number(process.hrtime.bigint() - started);
        const releasesAfter = releasesBefore === null ? null : ((await options.releases?.()) ?? null);
        const peak =
          peakSettings === null ? null : peakOf(looks, peakSettings.windowMs, peakSettings.pathOthersBusyPercent);
        return {
          waitPercent: waitPercentByProcess(tally, wallNs),
          lateReleasePercent:
            releasesBefore !== null && releasesAfter !== null
              ? lateReleasePercent(releasesBefore, releasesAfter)
              : null,
          ...(peak === null ? {} : { peak }),
        };
      },
    };
  };
}
