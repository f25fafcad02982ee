// The testbed's delay line: a small C program (delay-line/delay-line.c) that holds every packet of
// the link for a fixed one-way delay, fed by iptables NFQUEUE rules in the client namespace. It
// belongs to the testbed, not to a run: `testbed up` starts it (detached, so it outlives the CLI
// that started it and a Ctrl-C in that terminal), `testbed down` and `virtnet cleanup` stop it by
// the PID and start time recorded in the state directory.

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { isAlive, processStartTicks } from '../../actions/lib/core/liveness.ts';
import { mustRun, runCommand, sleep, spawnDetached, stateDir, waitUntil } from '../../actions/lib/core/proc.ts';
import { MiB, readRegularFile } from '../../actions/lib/core/safe-read.ts';
import { openForWriting, writeFileSafely } from '../../actions/lib/core/safe-write.ts';

/** The delay line logs a line a second at most (its stats): a run of days stays far below this. */
const DELAY_LINE_LOG_MAX_BYTES = 256 * MiB;

/** The NFQUEUE number: queues are per network namespace, so every testbed can use the same one. */
export const DELAY_LINE_QUEUE = 1;
/**
 * Microseconds a packet spends passing through the queue even when it is not held (to the program
 * and back into the kernel), measured by `npm run bench` section e; the program holds packets this
 * much less than the delay asked for, so that the link adds what was asked.
 */
export const QUEUE_PASS_OVERHEAD_US = 0;
/** Beyond this a 100 Mbit/s link holds more packets than the program's queue takes (16384). */
export const MAX_ONE_WAY_DELAY_US = 100_000;

const BUILD_SCRIPT = fileURLToPath(new URL('./delay-line/build.sh', import.meta.url));

// ---- pure ------------------------------------------------------------------------------------

/**
 * A one-way delay from the command line or a plan: "0.2ms", "200us" (or "200µs"), "off"/"none"/"0".
 * Returns whole microseconds (0 for none), or throws naming `what` and the value.
 */
export function parseDelay(text: string, what = '--delay'): number {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === 'none' || t === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|us|µs)$/.exec(t);
  if (!m)
    throw new Error(`${what}: expected a one-way delay such as 0.2ms or 200us, or off; got ${JSON.stringify(text)}`);
  const us = Number(m[1]) * (m[2] === 'ms' ? 1000 : 1);
  if (Math.abs(us - Math.round(us)) > 1e-6)
    throw new Error(`${what}: ${JSON.stringify(text)} is not a whole number of microseconds`);
  if (us > MAX_ONE_WAY_DELAY_US)
    throw new Error(
      `${what}: ${JSON.stringify(text)} is out of range: at most ${MAX_ONE_WAY_DELAY_US / 1000} ms one way`,
    );
  return Math.round(us);
}

/** "150 us one way (0.15 ms)", or "none". */
export function formatDelay(oneWayUs: number): string {
  return oneWayUs > 0 ? `${oneWayUs} us one way (${+(oneWayUs / 1000).toFixed(3)} ms)` : 'none';
}

/**
 * Both directions of the link through one queue, in the client namespace: what the client sends
 * (POSTROUTING out of its veth end) and what it receives (PREROUTING in from it). No
 * --queue-bypass: with no program on the queue, the kernel drops packets instead of passing them
 * undelayed. mangle needs no conntrack.
 */
export function delayLineRules(clientInterface: string, queue = DELAY_LINE_QUEUE): string[][] {
  return [
    ['-t', 'mangle', 'POSTROUTING', '-o', clientInterface, '-j', 'NFQUEUE', '--queue-num', String(queue)],
    ['-t', 'mangle', 'PREROUTING', '-i', clientInterface, '-j', 'NFQUEUE', '--queue-num', String(queue)],
  ];
}

/** The program's command line, in the client namespace. */
export function delayLineArgv(
  binary: string,
  clientNamespace: string,
  oneWayDelayMicroseconds: number,
  cpu: number | null,
): string[] {
  return [
    'ip',
    'netns',
    'exec',
    clientNamespace,
    binary,
    '--queue',
    String(DELAY_LINE_QUEUE),
    '--delay-us',
    String(oneWayDelayMicroseconds),
    '--overhead-us',
    String(QUEUE_PASS_OVERHEAD_US),
    ...(cpu === null ? [] : ['--cpu', String(cpu)]),
  ];
}

function ruleArgv(op: '-A' | '-C' | '-D', rule: string[]): string[] {
  const [t, table, chain, ...spec] = rule;
  return ['iptables', t!, table!, op, chain!, ...spec];
}

export interface DelayLineStats {
  packets: number;
  released: number;
  held: number;
  lateP50Us: number;
  lateP90Us: number;
  lateP99Us: number;
  lateMaxUs: number;
  maxDepth: number;
  netlinkOverruns: number;
  /** Packets released at least 100 us (1 ms) after they were due, since the program started. */
  lateAtLeast100Us: number;
  lateAtLeast1000Us: number;
}

/** The last "stats ..." line the program printed, or null. */
export function parseDelayLineStats(log: string): DelayLineStats | null {
  const line = log
    .split('\n')
    .filter((l) => l.startsWith('stats '))
    .pop();
  if (!line) return null;
  const v: Record<string, number> = {};
  for (const m of line.matchAll(/(\w+)=(\d+)/g)) v[m[1]!] = Number(m[2]);
  return {
    packets: v.packets ?? 0,
    released: v.released ?? 0,
    held: v.held ?? 0,
    lateP50Us: v.late_p50_us ?? 0,
    lateP90Us: v.late_p90_us ?? 0,
    lateP99Us: v.late_p99_us ?? 0,
    lateMaxUs: v.late_max_us ?? 0,
    maxDepth: v.max_depth ?? 0,
    netlinkOverruns: v.netlink_overruns ?? 0,
    lateAtLeast100Us: v.late_ge_100us ?? 0,
    lateAtLeast1000Us: v.late_ge_1000us ?? 0,
  };
}

// ---- side effects ------------------------------------------------------------------------------

export interface DelayLineState {
  index: number;
  pid: number;
  /** Field 22 of /proc/PID/stat when started: a reused PID never matches. */
  startTicks: string;
  argv: string[];
  oneWayDelayMicroseconds: number;
  cpu: number | null;
  log: string;
}

function registryDir(): string {
  return join(stateDir(), 'delay-lines');
}
function stateFile(index: number): string {
  return join(registryDir(), `${index}.json`);
}
function logFile(index: number): string {
  return join(registryDir(), `${index}.log`);
}

/** The registered delay line of a testbed (running or not), or null. */
export function delayLineState(index: number): DelayLineState | null {
  try {
    return JSON.parse(readRegularFile(stateFile(index), { maxBytes: MiB })) as DelayLineState;
  } catch {
    return null;
  }
}

/** Testbed indexes with a registered delay line, for `virtnet cleanup`. */
export function registeredDelayLines(): number[] {
  if (!existsSync(registryDir())) return [];
  return readdirSync(registryDir()).flatMap((f) => (/^\d+\.json$/.test(f) ? [Number(f.slice(0, -5))] : []));
}

/** Alive and the same process (start time; a zombie is not alive: a delay line whose run was SIGKILLed is reparented, and its new parent may be slow to reap it). */
function isRunning(state: DelayLineState): boolean {
  return state.startTicks !== '' && isAlive(state.pid, state.startTicks);
}

function logTail(path: string, lines = 5): string {
  try {
    return readRegularFile(path, { maxBytes: DELAY_LINE_LOG_MAX_BYTES })
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('stats '))
      .slice(-lines)
      .join(' | ');
  } catch {
    return '';
  }
}

/** Builds the program if its source changed (quick otherwise) and returns the binary's path. */
export async function delayLineBinary(): Promise<string> {
  const r = await mustRun(['bash', BUILD_SCRIPT], { timeoutMs: 120_000 });
  return r.stdout.trim().split('\n').pop()!;
}

/** Adds the NFQUEUE rules unless they are there already. */
export async function ensureDelayLineRules(clientNamespace: string, clientInterface: string): Promise<void> {
  const inNs = (a: string[]) => ['ip', 'netns', 'exec', clientNamespace, ...a];
  for (const rule of delayLineRules(clientInterface)) {
    if ((await runCommand(inNs(ruleArgv('-C', rule)), { timeoutMs: 10_000 })).exitCode !== 0)
      await mustRun(inNs(ruleArgv('-A', rule)), { timeoutMs: 10_000 });
  }
}

/** Starts the program in the client namespace, waits until it holds the queue, then adds the rules. */
export async function startDelayLine(options: {
  index: number;
  clientNamespace: string;
  clientInterface: string;
  oneWayDelayMicroseconds: number;
  cpu: number | null;
}): Promise<DelayLineState> {
  const { index, clientNamespace, clientInterface, oneWayDelayMicroseconds, cpu } = options;
  const binary = await delayLineBinary();
  mkdirSync(registryDir(), { recursive: true });
  const log = logFile(index);
  const argv = delayLineArgv(binary, clientNamespace, oneWayDelayMicroseconds, cpu);
  const fd = openForWriting(log);
  // Detached: its own session, so a Ctrl-C meant for a run reaches the run (which tears down in
  // order) and not the link under it; `ip netns exec` execs the program, so this PID is the program's.
  let pid: number;
  try {
    pid = spawnDetached(argv, { logFd: fd }).pid;
  } finally {
    closeSync(fd);
  }
  await sleep(5);
  const startTicks = processStartTicks(pid);
  const state: DelayLineState = { index, pid, startTicks: startTicks ?? '', argv, oneWayDelayMicroseconds, cpu, log };
  if (startTicks !== null) writeFileSafely(stateFile(index), JSON.stringify(state, null, 2));
  try {
    await waitUntil(
      `delay line of testbed ${index}`,
      async () => /^ready /m.test(readRegularFile(log, { maxBytes: DELAY_LINE_LOG_MAX_BYTES })),
      {
        timeoutMs: 10_000,
        intervalMs: 20,
        giveUp: () =>
          startTicks !== null && isRunning(state) ? null : `exited before it was ready: ${logTail(log) || 'no output'}`,
      },
    );
    await ensureDelayLineRules(clientNamespace, clientInterface);
  } catch (e) {
    await stopDelayLine(index, clientNamespace, clientInterface);
    throw e;
  }
  return state;
}

/**
 * Stops a testbed's delay line: its rules first (when the namespace is given and still there, so
 * a testbed that stays up passes packets again), then the program, SIGTERM then SIGKILL. Idempotent.
 */
export async function stopDelayLine(
  index: number,
  clientNamespace?: string,
  clientInterface?: string,
): Promise<string[]> {
  const removed: string[] = [];
  if (clientNamespace && clientInterface && existsSync(`/run/netns/${clientNamespace}`)) {
    for (const rule of delayLineRules(clientInterface)) {
      const argv = ['ip', 'netns', 'exec', clientNamespace, ...ruleArgv('-D', rule)];
      // Bounded: a rule added twice by hand is removed twice, never more often than that.
      for (let i = 0; i < 4 && (await runCommand(argv, { timeoutMs: 10_000 })).exitCode === 0; i++);
    }
  }
  const state = delayLineState(index);
  if (state && isRunning(state)) {
    process.kill(state.pid, 'SIGTERM');
    const until = Date.now() + 3000;
    while (isRunning(state) && Date.now() < until) await sleep(20);
    if (isRunning(state)) process.kill(state.pid, 'SIGKILL');
    for (let i = 0; i < 100 && isRunning(state); i++) await sleep(20);
    removed.push(`delay line of testbed ${index} (PID ${state.pid})`);
  }
  rmSync(stateFile(index), { force: true });
  return removed;
}

/** Why the testbed's delay line is not doing its job (gone, or never registered), or null if it runs. */
export function delayLineProblem(index: number): string | null {
  const state = delayLineState(index);
  if (!state)
    return `the delay line of testbed ${index} is not registered (stopped by testbed down or virtnet cleanup?)`;
  if (isRunning(state)) return null;
  const tail = logTail(state.log);
  return `the delay line of testbed ${index} (PID ${state.pid}) is gone${tail ? ` (its last output: ${tail})` : ''}`;
}

/**
 * Calls onGone once, soon (within intervalMs) after the delay line stops running. Returns the
 * function that stops watching. Polling /proc costs microseconds; it works for a delay line started
 * by another process (`virtnet testbed up`) as well as our own.
 */
export function watchDelayLine(index: number, onGone: (problem: string) => void, intervalMs = 100): () => void {
  const timer = setInterval(() => {
    const problem = delayLineProblem(index);
    if (problem === null) return;
    clearInterval(timer);
    onGone(problem);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Asks the running program for its counters (SIGUSR1) and returns them, or null if it is gone. */
export async function delayLineStats(index: number): Promise<DelayLineStats | null> {
  const state = delayLineState(index);
  if (!state || !isRunning(state)) return null;
  const before = statSync(state.log).size;
  process.kill(state.pid, 'SIGUSR1');
  // The program looks at its signal flag at least once a second (its idle poll is bounded, and
  // the signal cuts it short); while traffic flows, within microseconds. Read as soon as the whole
  // line is there: the run asks around every measurement.
  for (let i = 0; i < 1500; i++) {
    await sleep(1);
    if (statSync(state.log).size > before) {
      const log = readRegularFile(state.log, { maxBytes: DELAY_LINE_LOG_MAX_BYTES });
      if (log.endsWith('\n')) return parseDelayLineStats(log);
    }
  }
  return null;
}
