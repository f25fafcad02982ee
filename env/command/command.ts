// The driver of a command variant (spec.ts): runs its start command as a daemon the run owns by PID,
// waits until its ready command exits 0 and netserver answers a netperf probe from the client side
// (bounded by the ready timeout), and on stop runs its stop command, then ends the start process by
// its PID. Nothing runs through a shell.

import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, killOrphanedDaemons, runCommand, waitUntil } from '../../actions/lib/core/proc.ts';
import { writeFileSafely } from '../../actions/lib/core/safe-write.ts';
import {
  type Availability,
  type EnvironmentContext,
  type EnvironmentDriver,
  EnvironmentError,
  type StartedEnvironment,
} from '../../actions/lib/measure/environment.ts';
import { parsePidStat } from '../../actions/lib/measure/interference.ts';
import type { Endpoint } from '../../actions/lib/measure/netperf.ts';
import {
  type CommandSpec,
  DEFAULT_STOP_TIMEOUT_SECONDS,
  netserverAddress,
  type PlaceholderValues,
  READY_CALL_TIMEOUT_MS,
  substitute,
} from './spec.ts';

/** Labels the start process in the PID registry: `virtnet cleanup` ends any command variant's by it. */
export const COMMAND_LABEL_PREFIX = 'command:';

export interface CommandEnvironmentOptions {
  name: string;
  title: string;
  spec: CommandSpec;
}

/** The programs a spec runs, by field: each must exist and be executable here. */
function programs(spec: CommandSpec): [string, string][] {
  const out: [string, string][] = [['start', spec.start[0]!]];
  if (spec.ready) out.push(['ready', spec.ready[0]!]);
  if (spec.stop) out.push(['stop', spec.stop[0]!]);
  return out;
}

function available(name: string, spec: CommandSpec): Availability {
  for (const [field, program] of programs(spec)) {
    try {
      accessSync(program, constants.X_OK);
    } catch {
      return { ok: false, reason: `${name}: command.${field}: ${program} does not exist or is not executable here` };
    }
  }
  return { ok: true };
}

function testbedIndexOf(ctx: EnvironmentContext): number | undefined {
  const raw = ctx.settings.testbedIndex;
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** The most PIDs a CPU scope names (a measurement record keeps at most 100). */
export const MAX_SCOPE_PIDS = 100;

/**
 * `root` and the processes descended from it, read from /proc now (a VM the start command spawned),
 * the nearest first, at most MAX_SCOPE_PIDS.
 */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { pid, ppid } = parsePidStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // gone between the listing and the read
    }
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0 && tree.length < MAX_SCOPE_PIDS) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** How a finished command ended, for messages. */
function ending(r: { exitCode: number | null; signal?: string | null; timedOut?: boolean }): string {
  if (r.timedOut) return 'timed out';
  return r.exitCode !== null ? `exited ${r.exitCode}` : `ended by ${r.signal ?? 'a signal'}`;
}

async function start(options: CommandEnvironmentOptions, ctx: EnvironmentContext): Promise<StartedEnvironment> {
  const { name, spec } = options;
  const started = performance.now();
  const index = testbedIndexOf(ctx);
  const values: PlaceholderValues = {
    serverAddress: ctx.serverAddress,
    controlPort: String(ctx.ports.control),
    dataPort: String(ctx.ports.data),
    testbedIndex: String(index ?? 0),
    logDir: ctx.logDir,
    name,
  };
  const fill = (argv: readonly string[]) => argv.map((a) => substitute(a, values));
  const startArgv = fill(spec.start);
  const readyArgv = spec.ready ? fill(spec.ready) : null;
  const stopArgv = spec.stop ? fill(spec.stop) : null;
  const address = netserverAddress(spec, values);
  const endpoint: Endpoint = {
    address,
    controlPort: ctx.ports.control,
    dataPort: ctx.ports.data,
    ...(spec.netserver?.ownsAddress ? { dataAddress: address } : {}),
  };
  const logFile = join(ctx.logDir, `${name}-command.log`);
  const log: string[] = [];
  const daemon = new Daemon(startArgv, { label: `${COMMAND_LABEL_PREFIX}${name}`, testbedIndex: index });
  ctx.log(`${name}: started ${startArgv.join(' ')} (PID ${daemon.pid ?? '?'})`);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (stopArgv) {
      const r = await runCommand(stopArgv, {
        timeoutMs: (spec.stopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS) * 1000,
      });
      const said = `${r.stdout}${r.stderr}`.trim();
      log.push(`stop: ${stopArgv.join(' ')}: ${ending(r)}${said ? `\n${said}` : ''}`);
      if (r.exitCode !== 0)
        ctx.log(`${name}: the stop command ${ending(r)}: ${said.split('\n').slice(-2).join(' | ')}`);
    }
    await daemon.stop();
    writeFileSafely(logFile, `${log.join('\n')}\nstart: ${startArgv.join(' ')}\n${daemon.output}`);
  };

  let readyCalls = 0;
  let lastReady = 'not run yet';
  try {
    await waitUntil(
      `netserver at ${address}:${ctx.ports.control}`,
      async () => {
        if (readyArgv) {
          readyCalls++;
          const r = await runCommand(readyArgv, {
            timeoutMs: Math.min(READY_CALL_TIMEOUT_MS, ctx.readyTimeoutMs),
            signal: ctx.signal,
          });
          lastReady = `${ending(r)}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').at(-1)}` : ''}`;
          if (r.exitCode !== 0) return false;
        }
        return ctx.probe(endpoint);
      },
      {
        timeoutMs: ctx.readyTimeoutMs,
        intervalMs: 250,
        signal: ctx.signal,
        giveUp: () =>
          daemon.running
            ? null
            : `the start command ${ending({ exitCode: daemon.child.exitCode, signal: daemon.child.signalCode })} before netserver answered: ${daemon.output.trim().split('\n').slice(-3).join(' | ') || '(no output)'}`,
      },
    );
  } catch (e) {
    await stop();
    const readyNote = readyArgv ? ` (ready command run ${readyCalls} times, last: ${lastReady})` : '';
    throw new EnvironmentError(`${name}: ${(e as Error).message}${readyNote}`, logFile);
  }
  const pid = daemon.pid ?? null;
  return {
    endpoint,
    stop,
    cpuScope: () => ({ cgroups: [], pids: pid === null || !daemon.running ? [] : processTree(pid) }),
    description: {
      name,
      summary: `${options.title}: command variant (${startArgv[0]}), netserver at ${address}:${ctx.ports.control}${spec.accelerator === 'tcg' ? ', TCG software emulation' : ''}`,
      details: {
        startCommand: startArgv.join(' '),
        readyCommand: readyArgv ? readyArgv.join(' ') : 'none (the netperf probe only)',
        stopCommand: stopArgv ? stopArgv.join(' ') : 'none (the start process is ended by its PID)',
        netserver: `${address}:${ctx.ports.control}, data port ${ctx.ports.data}${spec.netserver?.ownsAddress ? ' (netserver holds the address)' : ''}`,
        startPid: String(pid ?? ''),
        readyCalls: String(readyCalls),
      },
      accelerator: spec.accelerator ?? 'none',
      startupSeconds: (performance.now() - started) / 1000,
    },
  };
}

/** Ends the start processes of command variants whose run is gone, by the PIDs they were registered under. */
export async function cleanupCommandEnvironments(onlyIndex: number | null = null): Promise<string[]> {
  return killOrphanedDaemons(COMMAND_LABEL_PREFIX, onlyIndex);
}

export function createCommandEnvironment(options: CommandEnvironmentOptions): EnvironmentDriver {
  return {
    name: options.name,
    title: options.title,
    available: async () => available(options.name, options.spec),
    start: (ctx) => start(options, ctx),
    cleanup: cleanupCommandEnvironments,
  };
}
