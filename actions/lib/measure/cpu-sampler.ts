// Reading the CPU time of a measurement's server side, client and machine (cpu-cost.ts has the
// arithmetic): /proc/stat, this process's /proc/PID/stat, the scope's cgroup usage files and its
// processes' /proc/PID/stat and their threads' schedstat, and once the kernel's configuration, to say how it accounts softirq.

import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { release } from 'node:os';
import { type CpuSampler, lookAtCpu, softirqInTaskTime } from './cpu-cost.ts';

function listOrNull(dir: string): string[] | null {
  try {
    return readdirSync(dir);
  } catch {
    return null;
  }
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** How this kernel accounts softirq time (cpu-cost.ts softirqInTaskTime); null where its configuration is not readable. */
export function kernelSoftirqInTaskTime(): boolean | null {
  for (const read of [
    () => gunzipSync(readFileSync('/proc/config.gz')).toString('utf8'),
    () => readFileSync(`/boot/config-${release()}`, 'utf8'),
  ]) {
    try {
      const answer = softirqInTaskTime(read());
      if (answer !== null) return answer;
    } catch {
      // Not there on this machine: try the next place.
    }
  }
  return null;
}

/** The sampler of this host. */
export function cpuSampler(): CpuSampler {
  let inTaskTime: boolean | null | undefined;
  return {
    look: (scope) => {
      try {
        return lookAtCpu(scope, readOrNull, Number(process.hrtime.bigint()), process.pid, listOrNull);
      } catch {
        return null;
      }
    },
    softirqInTaskTime: () => (inTaskTime === undefined ? (inTaskTime = kernelSoftirqInTaskTime()) : inTaskTime),
  };
}
