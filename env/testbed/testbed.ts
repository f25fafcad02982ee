// The paper's Figure 2 on one machine: a client network namespace joined to the host (the server)
// by a veth pair, both ends shaped like a 100 Mbit/s Ethernet cable. Addresses come from
// 198.18.0.0/15, the RFC 2544 benchmarking range, so test traffic never leaves the machine.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LinkDescription } from '../../actions/lib/measure/records.ts';
import { mustRun, runCommand, stateDir } from '../../actions/lib/core/proc.ts';
import {
  delayLineArgv,
  delayLineBinary,
  delayLineProblem,
  delayLineState,
  ensureDelayLineRules,
  formatDelay,
  registeredDelayLines,
  startDelayLine,
  stopDelayLine,
} from './delay-line.ts';

export interface TestbedConfig {
  /** Tells testbeds apart: the default 0 for runs, others for tests running beside them. */
  index: number;
  /** Link rate in Mbit/s (the paper's cable: 100), or null for an unshaped veth. */
  rateMbit: number | null;
  /** One-way delay the delay line adds in each direction, in microseconds; 0 or absent: no delay line. */
  oneWayDelayMicroseconds?: number;
  /** The CPU the delay line spins on (null: wherever the scheduler puts it); default DELAY_LINE_CPU. */
  delayLineCpu?: number | null;
  /** TCP congestion control of the client namespace, the TCP sender (default: the paper's cubic). */
  congestionControl?: string;
}

export const DEFAULT_TESTBED: TestbedConfig = { index: 0, rateMbit: 100 };
/** The paper's 2017 Ubuntu used CUBIC; this host's kernel defaults to bbr, which a new namespace inherits. */
export const DEFAULT_CONGESTION_CONTROL = 'cubic';
/**
 * The default one-way delay of `npm run reproduce`, picked by the rule in calibration.ts (native TCP
 * window-limited at -s 100, converged between -s 5000 and 7000); env/testbed/README.md has the
 * measured curve.
 */
export const CALIBRATED_ONE_WAY_DELAY_US = 200;
/** See env/testbed/README.md (the delay line) for the measurements behind this choice. */
export const DELAY_LINE_CPU: number | null = null;
export const MAX_TESTBED_INDEX = 63;
/** Every name the project creates starts with this, so cleanup touches nothing else. */
export const NAME_PREFIX = 'vnet';

/** The lock whoever uses testbed `index` holds (a run, `virtnet testbed`, a cleanup of it). */
export function testbedLockPath(index: number): string {
  return join(stateDir(), `testbed-${index}.lock`);
}

export interface TestbedLayout {
  index: number;
  clientNamespace: string;
  serverInterface: string;
  clientInterface: string;
  serverAddress: string;
  clientAddress: string;
  prefixLength: number;
  /** A /24 for guests behind the server (QEMU's bridge), also inside 198.18.0.0/15. */
  guestNetwork: { bridgeAddress: string; guestAddress: string; prefixLength: number; bridge: string; tap: string };
}

export function testbedLayout(index: number): TestbedLayout {
  if (!Number.isInteger(index) || index < 0 || index > MAX_TESTBED_INDEX) {
    throw new Error(`testbed index ${index} is out of range: expected a whole number from 0 to ${MAX_TESTBED_INDEX}`);
  }
  return {
    index,
    clientNamespace: `${NAME_PREFIX}${index}-client`,
    serverInterface: `${NAME_PREFIX}${index}s`,
    clientInterface: `${NAME_PREFIX}${index}c`,
    serverAddress: `198.18.${index}.1`,
    clientAddress: `198.18.${index}.2`,
    prefixLength: 30,
    guestNetwork: {
      bridgeAddress: `198.19.${index}.1`,
      guestAddress: `198.19.${index}.2`,
      prefixLength: 24,
      bridge: `${NAME_PREFIX}${index}br`,
      tap: `${NAME_PREFIX}${index}tap`,
    },
  };
}

/**
 * tbf alone lets veth's GSO super-frames through as one token-bucket charge and ignores Ethernet's
 * per-frame overhead (preamble, SFD, FCS, inter-frame gap: 24 B beyond what the kernel counts),
 * measuring ~95.5 Mbit/s; with `stab overhead 24` and one segment per frame the plateau lands on
 * 100BASE-TX's theoretical TCP goodput (94.15 Mbit/s).
 */
export function shapingCommands(device: string, rateMbit: number): string[][] {
  return [
    [
      'tc',
      'qdisc',
      'replace',
      'dev',
      device,
      'root',
      'stab',
      'overhead',
      '24',
      'tbf',
      'rate',
      `${rateMbit}mbit`,
      'burst',
      '64kbit',
      'latency',
      '400ms',
    ],
    ['ip', 'link', 'set', 'dev', device, 'gso_max_segs', '1'],
  ];
}

export function describeShaping(rateMbit: number | null): string {
  return rateMbit === null
    ? 'none (unshaped veth)'
    : `tbf rate ${rateMbit}mbit burst 64kbit, stab overhead 24 (Ethernet framing), gso_max_segs 1, both directions`;
}

function inNamespace(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

async function namespaceExists(ns: string): Promise<boolean> {
  return existsSync(`/run/netns/${ns}`) || existsSync(`/var/run/netns/${ns}`);
}

async function linkExists(device: string): Promise<boolean> {
  return (await runCommand(['ip', 'link', 'show', 'dev', device], { timeoutMs: 5000 })).exitCode === 0;
}

export interface Testbed {
  config: TestbedConfig;
  /** PID of the running delay line, or null when the link has no delay. */
  delayLinePid: number | null;
  /** The client namespace's TCP congestion control as set. */
  congestionControl: string;
  layout: TestbedLayout;
  /** argv prefix that runs a command on the client host. */
  clientPrefix: string[];
  link: LinkDescription;
}

export function describeTestbed(config: TestbedConfig, delayLinePid: number | null = null): Testbed {
  const layout = testbedLayout(config.index);
  return {
    config,
    delayLinePid,
    congestionControl: config.congestionControl ?? DEFAULT_CONGESTION_CONTROL,
    layout,
    clientPrefix: ['ip', 'netns', 'exec', layout.clientNamespace],
    link: {
      kind: 'veth-testbed',
      shaping: describeShaping(config.rateMbit),
      rateMbit: config.rateMbit,
      serverAddress: layout.serverAddress,
      clientAddress: layout.clientAddress,
      clientNamespace: layout.clientNamespace,
      oneWayDelayMicroseconds: config.oneWayDelayMicroseconds ?? 0,
    },
  };
}

const ALLOWED_CC = '/proc/sys/net/ipv4/tcp_allowed_congestion_control';

/**
 * Sets the client namespace's TCP congestion control (the sysctl is per namespace), or says what
 * exists. A namespace other than the host's may only choose from the host-wide allowed list ("reno
 * bbr" here: cubic is built in but not allowed), so a name missing from it is allowed for the moment
 * it takes to set it, then the list is put back: the namespace keeps its choice either way.
 */
async function setCongestionControl(namespace: string, name: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(name))
    throw new Error(`congestion control ${JSON.stringify(name)} is not a valid name (e.g. cubic, reno, bbr)`);
  const set = () =>
    runCommand(
      inNamespace(namespace, ['sh', '-c', 'printf %s "$1" > /proc/sys/net/ipv4/tcp_congestion_control', 'sh', name]),
      { timeoutMs: 10_000 },
    );
  let r = await set();
  if (r.exitCode !== 0) {
    const allowed = readFileSync(ALLOWED_CC, 'utf8').trim();
    if (!allowed.split(' ').includes(name)) {
      try {
        // Writing a name the kernel has as a module loads it; one it lacks fails (ENOENT).
        writeFileSync(ALLOWED_CC, `${allowed} ${name}`);
        r = await set();
      } catch {
        // not available: reported below
      } finally {
        writeFileSync(ALLOWED_CC, allowed);
      }
    }
  }
  if (r.exitCode !== 0) {
    const available = readFileSync('/proc/sys/net/ipv4/tcp_available_congestion_control', 'utf8').trim();
    throw new Error(
      `congestion control ${JSON.stringify(name)} cannot be set in ${namespace}: this kernel has ${available}`,
    );
  }
}

/** Brings the testbed up. Idempotent: whatever exists already is reconfigured, not duplicated. */
export async function testbedUp(config: TestbedConfig = DEFAULT_TESTBED): Promise<Testbed> {
  if (
    config.rateMbit !== null &&
    (!Number.isFinite(config.rateMbit) || config.rateMbit <= 0 || config.rateMbit > 100_000)
  ) {
    throw new Error(
      `testbed rate ${config.rateMbit} Mbit/s is out of range: expected above 0 and at most 100000, or off`,
    );
  }
  const delayUs = config.oneWayDelayMicroseconds ?? 0;
  if (!Number.isInteger(delayUs) || delayUs < 0)
    throw new Error(`testbed delay ${delayUs} us is not a whole number of microseconds >= 0`);
  const l = testbedLayout(config.index);
  if (!(await namespaceExists(l.clientNamespace))) await mustRun(['ip', 'netns', 'add', l.clientNamespace]);
  if (!(await linkExists(l.serverInterface))) {
    // A half-made pair (the client end moved, the server end gone) cannot exist: veth ends die together.
    await mustRun([
      'ip',
      'link',
      'add',
      l.serverInterface,
      'type',
      'veth',
      'peer',
      'name',
      l.clientInterface,
      'netns',
      l.clientNamespace,
    ]);
  }
  await mustRun(['ip', 'addr', 'replace', `${l.serverAddress}/${l.prefixLength}`, 'dev', l.serverInterface]);
  await mustRun(['ip', 'link', 'set', l.serverInterface, 'up']);
  await mustRun(
    inNamespace(l.clientNamespace, [
      'ip',
      'addr',
      'replace',
      `${l.clientAddress}/${l.prefixLength}`,
      'dev',
      l.clientInterface,
    ]),
  );
  await mustRun(inNamespace(l.clientNamespace, ['ip', 'link', 'set', l.clientInterface, 'up']));
  await mustRun(inNamespace(l.clientNamespace, ['ip', 'link', 'set', 'lo', 'up']));
  // The client reaches guests behind the server (198.19.x.0/24) through the server end.
  await mustRun(inNamespace(l.clientNamespace, ['ip', 'route', 'replace', 'default', 'via', l.serverAddress]));
  if (config.rateMbit !== null) {
    for (const argv of shapingCommands(l.serverInterface, config.rateMbit)) await mustRun(argv);
    for (const argv of shapingCommands(l.clientInterface, config.rateMbit))
      await mustRun(inNamespace(l.clientNamespace, argv));
  } else {
    await runCommand(['tc', 'qdisc', 'del', 'dev', l.serverInterface, 'root'], { timeoutMs: 5000 });
    await runCommand(inNamespace(l.clientNamespace, ['tc', 'qdisc', 'del', 'dev', l.clientInterface, 'root']), {
      timeoutMs: 5000,
    });
  }
  await setCongestionControl(l.clientNamespace, config.congestionControl ?? DEFAULT_CONGESTION_CONTROL);
  // A delay line already running as asked is kept; any other is replaced (or removed for no delay).
  const cpu = config.delayLineCpu === undefined ? DELAY_LINE_CPU : config.delayLineCpu;
  const running = delayLineState(config.index);
  const wanted = delayUs > 0 ? delayLineArgv(await delayLineBinary(), l.clientNamespace, delayUs, cpu) : null;
  let pid: number | null = null;
  if (running && wanted && running.argv.join(' ') === wanted.join(' ') && delayLineProblem(config.index) === null) {
    pid = running.pid;
    await ensureDelayLineRules(l.clientNamespace, l.clientInterface);
  } else {
    await stopDelayLine(config.index, l.clientNamespace, l.clientInterface);
    if (delayUs > 0)
      pid = (
        await startDelayLine({
          index: config.index,
          clientNamespace: l.clientNamespace,
          clientInterface: l.clientInterface,
          oneWayDelayMicroseconds: delayUs,
          cpu,
        })
      ).pid;
  }
  return describeTestbed(config, pid);
}

/** Removes the namespace and the veth pair (deleting one end deletes both). Idempotent. */
export async function testbedDown(index: number = DEFAULT_TESTBED.index): Promise<string[]> {
  const l = testbedLayout(index);
  // The delay line first: it lives in the namespace and would keep it alive, unnamed, after `netns del`.
  const removed: string[] = await stopDelayLine(index);
  if (await linkExists(l.serverInterface)) {
    await mustRun(['ip', 'link', 'del', l.serverInterface]);
    removed.push(`veth ${l.serverInterface}`);
  }
  if (await namespaceExists(l.clientNamespace)) {
    await mustRun(['ip', 'netns', 'del', l.clientNamespace]);
    removed.push(`netns ${l.clientNamespace}`);
  }
  return removed;
}

export interface TestbedStatus {
  index: number;
  up: boolean;
  namespace: boolean;
  serverInterface: boolean;
  serverAddress: string;
  clientAddress: string;
  qdisc: string | null;
  /** The delay line: its PID and one-way delay, and whether it is running; null if there is none. */
  delayLine: { pid: number; oneWayDelay: string; running: boolean } | null;
}

export async function testbedStatus(index: number = DEFAULT_TESTBED.index): Promise<TestbedStatus> {
  const l = testbedLayout(index);
  const namespace = await namespaceExists(l.clientNamespace);
  const serverInterface = await linkExists(l.serverInterface);
  let qdisc: string | null = null;
  if (serverInterface) {
    const q = await runCommand(['tc', 'qdisc', 'show', 'dev', l.serverInterface, 'root'], { timeoutMs: 5000 });
    qdisc = q.stdout.trim().split('\n')[0] ?? null;
  }
  const dl = delayLineState(index);
  const delayLine = dl
    ? { pid: dl.pid, oneWayDelay: formatDelay(dl.oneWayDelayMicroseconds), running: delayLineProblem(index) === null }
    : null;
  return {
    index,
    up: namespace && serverInterface,
    namespace,
    serverInterface,
    serverAddress: l.serverAddress,
    clientAddress: l.clientAddress,
    qdisc,
    delayLine,
  };
}

/** Every testbed index that has a namespace or veth of ours, for `virtnet cleanup`. */
export async function listTestbeds(): Promise<number[]> {
  const found = new Set<number>();
  const ns = await runCommand(['ip', 'netns', 'list'], { timeoutMs: 5000 });
  for (const m of ns.stdout.matchAll(new RegExp(`^${NAME_PREFIX}(\\d+)-client\\b`, 'gm'))) found.add(Number(m[1]));
  const links = await runCommand(['ip', '-o', 'link', 'show'], { timeoutMs: 5000 });
  for (const m of links.stdout.matchAll(new RegExp(`^\\d+: ${NAME_PREFIX}(\\d+)s[@:]`, 'gm'))) found.add(Number(m[1]));
  // A delay line whose namespace was deleted by hand still holds that namespace, unnamed.
  for (const i of registeredDelayLines()) found.add(i);
  return [...found].filter((i) => i <= MAX_TESTBED_INDEX).sort((a, b) => a - b);
}
