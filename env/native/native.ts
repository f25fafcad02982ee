// Native Linux: netserver straight on the server host, bound to its testbed address.
// The baseline every other environment is normalised against (the paper's "local").

import { Daemon, killOrphanedDaemons, mustRun, runCommand, waitUntil } from '../../actions/lib/core/proc.ts';
import {
  type EnvironmentContext,
  type EnvironmentDriver,
  EnvironmentError,
  type StartedEnvironment,
} from '../../actions/lib/measure/environment.ts';
import { join } from 'node:path';
import { writeFileSafely } from '../../actions/lib/core/safe-write.ts';

export async function netserverVersion(): Promise<string> {
  const r = await runCommand(['netserver', '-V'], { timeoutMs: 5000 }).catch(() => null);
  return r?.stdout.trim().replace(/^Netperf version\s*/, '') || 'unknown';
}

async function available() {
  const r = await runCommand(['netserver', '-V'], { timeoutMs: 5000 }).catch((e: Error) => e);
  if (r instanceof Error) return { ok: false as const, reason: `netserver is not installed: ${r.message}` };
  return { ok: true as const };
}

async function start(ctx: EnvironmentContext): Promise<StartedEnvironment> {
  const started = performance.now();
  // -D: stay in the foreground so we hold its PID; -f: serve tests in this process instead of
  // forking a child per test, so stopping it by PID leaves nothing behind.
  const argv = ['netserver', '-D', '-f', '-4', '-L', ctx.serverAddress, '-p', String(ctx.ports.control)];
  const index = ctx.settings.testbedIndex;
  const daemon = new Daemon(argv, {
    label: 'native:netserver',
    testbedIndex: index !== undefined && /^\d+$/.test(index) ? Number(index) : undefined,
  });
  const endpoint = {
    address: ctx.serverAddress,
    controlPort: ctx.ports.control,
    dataPort: ctx.ports.data,
    dataAddress: ctx.serverAddress,
  };
  const stop = async () => {
    await daemon.stop();
  };
  try {
    await waitUntil('native netserver', () => ctx.probe(endpoint), {
      timeoutMs: ctx.readyTimeoutMs,
      intervalMs: 100,
      signal: ctx.signal,
      giveUp: () => (daemon.running ? null : `netserver exited early: ${daemon.output.trim() || '(no output)'}`),
    });
  } catch (e) {
    await stop();
    const logFile = join(ctx.logDir, 'native-netserver.log');
    writeFileSafely(logFile, daemon.output);
    throw new EnvironmentError(`native: ${(e as Error).message}`, logFile);
  }
  const kernel = (await mustRun(['uname', '-r'])).stdout.trim();
  const pid = daemon.pid;
  return {
    endpoint,
    stop,
    // -f: netserver serves every test in its own process, so its utime+stime is the whole server side.
    cpuScope: () => ({ cgroups: [], pids: pid === undefined || pid === null ? [] : [pid] }),
    description: {
      name: 'native',
      summary: `netserver ${await netserverVersion()} on the host (Linux ${kernel})`,
      details: { netserver: await netserverVersion(), kernel, command: argv.join(' '), pid: String(daemon.pid ?? '') },
      accelerator: 'none',
      startupSeconds: (performance.now() - started) / 1000,
    },
  };
}

export const nativeEnvironment: EnvironmentDriver = {
  name: 'native',
  title: 'Native Linux',
  available,
  start,
  // Native leaves nothing behind but its netserver, found by the PID the run recorded.
  cleanup: async (onlyIndex = null) => killOrphanedDaemons('native:', onlyIndex),
};
