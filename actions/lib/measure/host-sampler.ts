// Sampling the host around each measurement: /proc/stat, /proc/loadavg and the CPU time of the
// run's own processes (/proc/PID/stat of this process and its descendants). The arithmetic is in
// interference.ts. On the embedded testbed netperf and netserver share this host, so one sample
// covers both ends; on a runner pair this samples the client's host only (the server's host is
// not sampled).

import { readdirSync, readFileSync } from 'node:fs';
import { type HostSample, parseLoadAverage, parsePidStat, parseProcStat, type ProcessTicks, treeTicks } from './interference.ts';

function processTicks(): ProcessTicks[] {
  const out: ProcessTicks[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      out.push(parsePidStat(readFileSync(`/proc/${name}/stat`, 'utf8')));
    } catch {
      // Gone between the listing and the read, or not ours to read: it is not one of ours then.
    }
  }
  return out;
}

/**
 * A sampler of this host. `ownPids`: processes that belong to the measurement though this process
 * did not start them (the testbed's delay line); their CPU time is not counted as interference.
 * Returns null where /proc cannot be read (not Linux): the record then carries no interference.
 */
export function hostSampler(ownPids: () => readonly number[] = () => []): () => HostSample | null {
  return () => {
    try {
      const { cpu, cores } = parseProcStat(readFileSync('/proc/stat', 'utf8'));
      const ownTicks = treeTicks(processTicks(), [process.pid, ...ownPids()]);
      return { cpu, cores, ownTicks, loadAverage1: parseLoadAverage(readFileSync('/proc/loadavg', 'utf8')) };
    } catch {
      return null;
    }
  };
}
