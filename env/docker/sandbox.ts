// What /proc says about gVisor's processes: the sandbox's platform as seen from outside, and what a
// failed start left (in the container's cgroup, and the containerd shim that served it). The decisions on what was read are in spec.ts; this is only the reading.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { observedPlatform } from './spec.ts';

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The platform gVisor's sandbox process `pid` is seen to use (spec.ts observedPlatform). */
export function observedPlatformOf(pid: number): 'ptrace' | 'kvm' | null {
  const threads = entries(`/proc/${pid}/task`).map(Number);
  const children = threads.flatMap((t) =>
    (readOrNull(`/proc/${pid}/task/${t}/children`) ?? '').split(/\s+/).filter((c) => c !== ''),
  );
  const childTracers = children.map((c) =>
    Number(/^TracerPid:\s*(\d+)/m.exec(readOrNull(`/proc/${c}/status`) ?? '')?.[1]),
  );
  const fdTargets = entries(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return [];
    }
  });
  return observedPlatform({ threads, childTracers, fdTargets });
}

/** Where cgroup v1's pids hierarchy (one per container under cgroupfs) keeps a cgroup's processes. */
const PIDS_HIERARCHY = '/sys/fs/cgroup/pids';

/**
 * The processes still in a removed container's cgroup. A runsc container whose start failed keeps
 * its sandbox and gofer (and they keep their shim) after `docker rm --force`; those are the run's
 * own processes, found by the container's own cgroup, never by name.
 */
export function processesInCgroup(cgroup: string): number[] {
  const text = readOrNull(`${PIDS_HIERARCHY}/${cgroup}/cgroup.procs`) ?? '';
  return text
    .split('\n')
    .filter((l) => /^\d+$/.test(l.trim()))
    .map(Number);
}

/**
 * containerd shims still serving a removed container: a shim is named by its container's full id
 * (`containerd-shim-runc-v2 -namespace moby -id <id> ...`). After a runsc start that failed, the
 * shim outlives `docker rm` with nothing left to serve.
 */
export function shimsOf(containerId: string): number[] {
  const found: number[] = [];
  for (const entry of entries('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (readOrNull(`/proc/${entry}/cmdline`) ?? '').split('\0');
    const id = argv.indexOf('-id');
    if (id > 0 && argv[id + 1] === containerId && /(^|\/)containerd-shim/.test(argv[0]!)) found.push(Number(entry));
  }
  return found;
}
