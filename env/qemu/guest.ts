// Starting a QEMU guest that serves netperf: the part the Linux guest and OSv share, so that only
// the guest differs between them. Network up, QEMU started (held by PID), readiness = the guest's
// marker on the serial console plus a netperf control probe through the port maps, all bounded by
// the context's timeout; on any failure everything is torn down and the console log is kept.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, killOrphanedDaemons, waitUntil } from '../../actions/lib/core/proc.ts';
import type { Endpoint } from '../../actions/lib/measure/netperf.ts';
import { type EnvironmentContext, EnvironmentError } from '../../actions/lib/measure/environment.ts';
import { type Accelerator, type AcceleratorChoice, chooseAccelerator, parseAcceleratorRequest } from './accelerator.ts';
import { removeDhcpFiles, startDhcpServer } from './dhcp.ts';
import {
  cleanupGuestNetworks,
  type GuestNetworkPlan,
  guestNetworkDown,
  guestNetworkPlan,
  guestNetworkUp,
} from './network.ts';
import {
  type BootSpec,
  buildQemuCommand,
  type GuestMachine,
  type GuestNic,
  nicDevice,
  type NetSpec,
} from './qemu-command.ts';
import { readRegularFile } from '../../actions/lib/core/safe-read.ts';
import { writeFileSafely } from '../../actions/lib/core/safe-write.ts';

/**
 * A path as the manifest records it: relative to the working directory when inside it, so a run
 * committed under reports/ names no machine's directories (the cache lives in the checkout).
 */
export function portablePath(arg: string): string {
  const root = `${process.cwd()}/`;
  return arg.startsWith(root) ? arg.slice(root.length) : arg;
}

export interface GuestLaunch {
  /** The environment's name (a variant's, such as kvm-e1000): names the console log. */
  name: string;
  /**
   * The base environment (kvm, osv): labels QEMU's PID (`<base>:qemu`), so the base's cleanup
   * finds what any of its variants left. Default: the name.
   */
  base?: string;
  /** The guest's NIC; default virtio. */
  nic?: GuestNic;
  /** The machine QEMU emulates; default q35. */
  machine?: GuestMachine;
  /** vhost-net on the tap: on (an error where the host lacks /dev/vhost-net), off, or auto (where the host has it); default auto. */
  vhost?: VhostRequest;
  /** What to boot, given the guest network (a kernel command line carries the guest's address) and the accelerator. */
  boot: (plan: GuestNetworkPlan, accelerator: Accelerator) => BootSpec;
  /** A line on the serial console that says the guest's netserver is starting. */
  readyMarker: RegExp;
  /** Console lines that mean the boot has failed for good (a kernel panic, an OSv abort). */
  failureMarkers: RegExp[];
  memoryMb: number;
  cpus: number;
  /** Runs a DHCP server on the bridge (OSv asks for its address by DHCP). */
  dhcp: boolean;
  rng?: boolean;
}

export interface RunningGuest {
  endpoint: Endpoint;
  accelerator: AcceleratorChoice;
  consoleLog: string;
  qemuCommand: string[];
  /** QEMU's PID: its threads (vCPUs, I/O, the user-mode network) are the guest's CPU cost. */
  qemuPid: number | null;
  /** Seconds from starting QEMU until the marker appeared and netserver answered. */
  bootSeconds: number;
  details: Record<string, string>;
  stop(): Promise<void>;
}

export type VhostRequest = 'auto' | 'on' | 'off';

export const VHOST_NET_DEVICE = '/dev/vhost-net';

/** Why a guest that asks for vhost-net cannot have it here, or null when it can. */
export function vhostUnavailableReason(hasDevice: boolean = existsSync(VHOST_NET_DEVICE)): string | null {
  return hasDevice
    ? null
    : `${VHOST_NET_DEVICE} is missing: this host's kernel has no vhost_net (load it with modprobe vhost_net where it is built as a module)`;
}

/** Why a guest environment asking for `request` cannot start here (its available() says so), or null. */
export function vhostRefusal(request: VhostRequest | undefined): string | null {
  if (request !== 'on') return null;
  const why = vhostUnavailableReason();
  return why && `vhost-net asked for (vhost on), but ${why}`;
}

/** Whether the tap gets vhost=on: the request against what the host has. Throws for on without the device. */
export function decideVhost(request: VhostRequest, nic: GuestNic, hasDevice: boolean): boolean {
  if (request === 'off') return false;
  if (request === 'on') {
    if (nic !== 'virtio') throw new Error(`vhost-net serves virtio-net only, not the ${nic} NIC`);
    const why = vhostUnavailableReason(hasDevice);
    if (why) throw new Error(`vhost-net was asked for (vhost on), but ${why}`);
    return true;
  }
  return nic === 'virtio' && hasDevice;
}

export function hostAcceleratorFacts(): { cpuinfo: string; kvmDevice: boolean } {
  return { cpuinfo: readFileSync('/proc/cpuinfo', 'utf8'), kvmDevice: existsSync('/dev/kvm') };
}

export function testbedIndexSetting(settings: Record<string, string>): number {
  const raw = settings.testbedIndex;
  if (raw === undefined)
    throw new Error(
      'QEMU guest: settings.testbedIndex is missing: the guest network is derived from the testbed index',
    );
  const index = Number(raw);
  if (!Number.isInteger(index) || index < 0 || index > 63)
    throw new Error(`QEMU guest: testbed index ${JSON.stringify(raw)} is not a whole number from 0 to 63`);
  return index;
}

export type NetworkMode = 'tap' | 'user';

export function networkModeSetting(settings: Record<string, string>): NetworkMode {
  const v = settings.guestNetwork ?? 'tap';
  if (v === 'tap' || v === 'user') return v;
  throw new Error(`guest network: expected tap or user, got ${JSON.stringify(v)}`);
}

/** A guest's console log: boot messages and the ready marker, a few hundred kB at most in practice. */
export const CONSOLE_LOG_MAX_BYTES = 64 * 1024 * 1024;

/** The guest's console log as far as it goes (read the safe way: the log is in the run directory). */
export function consoleText(path: string): string {
  try {
    return readRegularFile(path, { maxBytes: CONSOLE_LOG_MAX_BYTES });
  } catch {
    return '';
  }
}

function vhostDetail(request: VhostRequest, nic: GuestNic, vhost: boolean): string {
  if (vhost) return `on (vhost ${request})`;
  if (request === 'off') return 'off (vhost off)';
  return nic === 'virtio'
    ? `off (vhost auto: ${VHOST_NET_DEVICE} is missing on this host)`
    : `off (vhost auto: the ${nic} NIC cannot use vhost-net)`;
}

/** The console line holding `pattern`, without the kernel's timestamp. */
export function lineMatching(text: string, pattern: RegExp): string {
  const line = text.split('\n').find((l) => pattern.test(l)) ?? '';
  return line.replace(/^\[\s*\d+\.\d+\]\s*/, '').trim();
}

/** The last lines of the console, for error messages. */
function tail(text: string, lines = 6): string {
  return text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((l) => l.trimEnd())
    .join(' | ');
}

export async function startQemuGuest(ctx: EnvironmentContext, launch: GuestLaunch): Promise<RunningGuest> {
  const index = testbedIndexSetting(ctx.settings);
  const mode = networkModeSetting(ctx.settings);
  const accelerator = chooseAccelerator(parseAcceleratorRequest(ctx.settings.accel), hostAcceleratorFacts());
  const plan = guestNetworkPlan(index, ctx.ports);
  const consoleLog = join(ctx.logDir, `${launch.name}-console.log`);
  // QEMU opens the console log itself, following links: an empty file of ours is put there first
  // (the safe way), which QEMU then opens as it is.
  rmSync(consoleLog, { force: true });
  writeFileSafely(consoleLog, '');
  const endpoint: Endpoint = { address: ctx.serverAddress, controlPort: ctx.ports.control, dataPort: ctx.ports.data };

  let qemu: Daemon | null = null;
  let dhcp: Daemon | null = null;
  let networkUp = false;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await qemu?.stop(5000);
    if (dhcp) {
      await dhcp.stop();
      removeDhcpFiles(plan);
    }
    if (networkUp) await guestNetworkDown(index);
  };

  try {
    let net: NetSpec;
    let vhost = false;
    const nic = launch.nic ?? 'virtio';
    const vhostRequest = launch.vhost ?? 'auto';
    if (mode === 'tap') {
      const facts = await guestNetworkUp(plan);
      networkUp = true;
      vhost = decideVhost(vhostRequest, nic, facts.vhostNet);
      net = { kind: 'tap', tap: plan.tap, mac: plan.mac, vhost };
    } else {
      if (vhostRequest === 'on')
        throw new Error(
          'vhost-net was asked for (vhost on), but the user-mode network has no tap for it: use --guest-network tap',
        );
      const forwards = plan.portMaps.map((m) => ({
        protocol: m.protocol,
        hostAddress: ctx.serverAddress,
        port: m.port,
      }));
      net = {
        kind: 'user',
        mac: plan.mac,
        network: `${plan.bridgeAddress.replace(/\.1$/, '.0')}/${plan.prefixLength}`,
        hostAddress: plan.bridgeAddress,
        guestAddress: plan.guestAddress,
        forwards,
      };
    }
    if (launch.dhcp && mode === 'tap') dhcp = startDhcpServer(plan, launch.name);
    const argv = buildQemuCommand({
      boot: launch.boot(plan, accelerator.accelerator),
      accelerator: accelerator.accelerator,
      memoryMb: launch.memoryMb,
      cpus: launch.cpus,
      net,
      nic,
      machine: launch.machine,
      consoleLog,
      rng: launch.rng,
    });
    ctx.log(`${launch.name}: booting under ${accelerator.accelerator.toUpperCase()} (${accelerator.reason})`);
    const started = performance.now();
    qemu = new Daemon(argv, { label: `${launch.base ?? launch.name}:qemu`, testbedIndex: index });
    let markerSeen = false;
    const q = qemu;
    const d = dhcp;
    await waitUntil(
      `${launch.name} guest`,
      async () => {
        if (!markerSeen) markerSeen = launch.readyMarker.test(consoleText(consoleLog));
        return markerSeen && (await ctx.probe(endpoint));
      },
      {
        timeoutMs: ctx.readyTimeoutMs,
        intervalMs: 250,
        signal: ctx.signal,
        giveUp: () => {
          const text = consoleText(consoleLog);
          const failure = launch.failureMarkers.find((m) => m.test(text));
          if (failure) return `the guest failed to boot: ${JSON.stringify(lineMatching(text, failure))}`;
          if (!q.running)
            return `QEMU exited (${q.child.exitCode ?? q.child.signalCode}) before netserver answered: ${q.output.trim() || tail(text) || '(no output)'}`;
          if (d && !d.running) return `the DHCP server exited: ${d.output.trim() || '(no output)'}`;
          return null;
        },
      },
    ).catch((e: Error) => {
      if (!/not ready after/.test(e.message)) throw e;
      const text = consoleText(consoleLog);
      throw new Error(
        markerSeen
          ? `${e.message} (the console showed the ready marker, but netserver did not answer on ${endpoint.address}:${endpoint.controlPort})`
          : `${e.message} (no ready marker ${launch.readyMarker} on the console${text ? `; last lines: ${tail(text, 3)}` : ''})`,
      );
    });
    const bootSeconds = (performance.now() - started) / 1000;
    const details: Record<string, string> = {
      accelerator: accelerator.accelerator,
      acceleratorReason: accelerator.reason,
      network:
        mode === 'tap'
          ? `tap ${plan.tap} on bridge ${plan.bridge} (${plan.bridgeAddress}/${plan.prefixLength}), guest ${plan.guestAddress}, DNAT ${plan.portMaps.map((m) => `${m.protocol.toUpperCase()} ${m.port}`).join(', ')} from ${ctx.serverAddress}`
          : `QEMU user-mode network, host forwards ${plan.portMaps.map((m) => `${m.protocol.toUpperCase()} ${m.port}`).join(', ')} from ${ctx.serverAddress}`,
      machine: launch.machine ?? 'q35',
      nic: `${nic} (QEMU device ${nicDevice(launch.machine ?? 'q35', nic)})`,
      vhostNet: mode === 'user' ? 'not applicable (user-mode network)' : vhostDetail(vhostRequest, nic, vhost),
      guestMac: plan.mac,
      memoryMb: String(launch.memoryMb),
      vcpus: String(launch.cpus),
      qemuCommand: argv.map(portablePath).join(' '),
      qemuPid: String(q.pid ?? ''),
      consoleLog: portablePath(consoleLog),
      bootSeconds: bootSeconds.toFixed(2),
    };
    const qemuPid = q.pid ?? null;
    return { endpoint, accelerator, consoleLog, qemuCommand: argv, qemuPid, bootSeconds, details, stop };
  } catch (e) {
    await stop();
    // QEMU's own complaints (a bad option, a busy tap) are not on the guest console: keep them too.
    if (qemu?.output.trim()) writeFileSafely(join(ctx.logDir, `${launch.name}-qemu.log`), qemu.output);
    const message = `${launch.name}: ${(e as Error).message}`;
    throw new EnvironmentError(message, existsSync(consoleLog) ? consoleLog : null);
  }
}

/**
 * Removes QEMU processes, DHCP servers and guest networks left by killed runs of this environment;
 * `onlyIndex`: only those of that testbed.
 */
export async function cleanupQemuGuests(name: string, onlyIndex: number | null = null): Promise<string[]> {
  const removed = killOrphanedDaemons(`${name}:`, onlyIndex);
  removed.push(...(await cleanupGuestNetworks(onlyIndex)));
  return removed;
}

/** The QEMU version line, for the environment description. */
export function qemuVersionFrom(output: string): string {
  return /version\s+(\S+)/i.exec(output)?.[1] ?? 'unknown';
}
