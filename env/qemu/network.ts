// A guest network like libvirt's default network, which the paper's KVM host used: a bridge on the
// server with the guest's tap on it, the guest on a private /24 behind it, and port maps (DNAT)
// from the server's testbed address to the guest for netperf's control and data ports.
// Every name starts with the testbed's prefix (vnet<i>...) and every iptables rule carries the
// comment virtnet-guest-<i>, so teardown and `virtnet cleanup` remove ours and nothing else.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { identityOf, isAlive } from '../../actions/lib/core/liveness.ts';
import { mustRun, runCommand, stateDir } from '../../actions/lib/core/proc.ts';
import { NAME_PREFIX, testbedLayout } from '../testbed/testbed.ts';
import { MiB, readRegularFile } from '../../actions/lib/core/safe-read.ts';
import { writeFileSafely } from '../../actions/lib/core/safe-write.ts';

export type Protocol = 'tcp' | 'udp';

export interface PortMap {
  protocol: Protocol;
  port: number;
}

export interface IptablesRule {
  table: 'nat' | 'filter';
  chain: string;
  /** The match and target, without the chain: what follows `-A CHAIN` / `-D CHAIN`. */
  spec: string[];
}

export interface GuestNetworkPlan {
  index: number;
  bridge: string;
  tap: string;
  bridgeAddress: string;
  guestAddress: string;
  prefixLength: number;
  serverAddress: string;
  /** libvirt's locally administered prefix 52:54:00, then the network and host of the guest. */
  mac: string;
  comment: string;
  portMaps: PortMap[];
  rules: IptablesRule[];
}

export const RULE_COMMENT_PREFIX = 'virtnet-guest-';

export function ruleComment(index: number): string {
  return `${RULE_COMMENT_PREFIX}${index}`;
}

/** The port maps netperf needs: its control connection, and the data port for TCP and UDP tests. */
export function netperfPortMaps(ports: { control: number; data: number }): PortMap[] {
  for (const [what, p] of Object.entries(ports)) {
    if (!Number.isInteger(p) || p < 1 || p > 65535)
      throw new Error(`guest network: ${what} port ${p} is not a port number (1..65535)`);
  }
  if (ports.control === ports.data)
    throw new Error(`guest network: control and data port are both ${ports.control}; netperf needs two ports`);
  return [
    { protocol: 'tcp', port: ports.control },
    { protocol: 'tcp', port: ports.data },
    { protocol: 'udp', port: ports.data },
  ];
}

export function guestNetworkPlan(index: number, ports: { control: number; data: number }): GuestNetworkPlan {
  const layout = testbedLayout(index);
  const g = layout.guestNetwork;
  const comment = ruleComment(index);
  const portMaps = netperfPortMaps(ports);
  const tag = ['-m', 'comment', '--comment', comment];
  const rules: IptablesRule[] = [
    // The port maps: the same port on both sides, since netperf tells netserver which data port
    // to listen on and then connects to that port on the server address.
    ...portMaps.map((m): IptablesRule => ({
      table: 'nat',
      chain: 'PREROUTING',
      spec: [
        '-d',
        `${layout.serverAddress}/32`,
        '-p',
        m.protocol,
        '-m',
        m.protocol,
        '--dport',
        String(m.port),
        ...tag,
        '-j',
        'DNAT',
        '--to-destination',
        `${g.guestAddress}:${m.port}`,
      ],
    })),
    // dockerd may have set the FORWARD policy to DROP; our bridge's traffic is let through first.
    { table: 'filter', chain: 'FORWARD', spec: ['-o', g.bridge, ...tag, '-j', 'ACCEPT'] },
    { table: 'filter', chain: 'FORWARD', spec: ['-i', g.bridge, ...tag, '-j', 'ACCEPT'] },
  ];
  return {
    index,
    bridge: g.bridge,
    tap: g.tap,
    bridgeAddress: g.bridgeAddress,
    guestAddress: g.guestAddress,
    prefixLength: g.prefixLength,
    serverAddress: layout.serverAddress,
    mac: `52:54:00:19:${index.toString(16).padStart(2, '0')}:02`,
    comment,
    portMaps,
    rules,
  };
}

export function iptablesInsertArgv(rule: IptablesRule): string[] {
  return ['iptables', '-w', '5', '-t', rule.table, '-I', rule.chain, '1', ...rule.spec];
}

export function iptablesDeleteArgv(rule: IptablesRule): string[] {
  return ['iptables', '-w', '5', '-t', rule.table, '-D', rule.chain, ...rule.spec];
}

/**
 * The rules of ours in `iptables-save` output, optionally of one index only, as rules that can be
 * deleted. Our rules hold no quoted words, so splitting on blanks is exact for them.
 */
export function ourRulesInSave(saved: string, index: number | null = null): IptablesRule[] {
  const rules: IptablesRule[] = [];
  let table: IptablesRule['table'] | null = null;
  // Our comments never need quoting; a quoted comment that merely starts like ours is someone else's.
  const want = new RegExp(`--comment ${index === null ? `${RULE_COMMENT_PREFIX}\\d+` : ruleComment(index)}(\\s|$)`);
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) {
      const name = line.slice(1).trim();
      table = name === 'nat' || name === 'filter' ? name : null;
      continue;
    }
    if (!table || !line.startsWith('-A ') || !want.test(line)) continue;
    const [, chain, ...spec] = line.trim().split(/\s+/);
    rules.push({ table, chain: chain!, spec });
  }
  return rules;
}

/** Guest network indexes named in `ip -o link show` output: vnet<i>br and vnet<i>tap. */
export function ourGuestLinks(ipLinkOutput: string): { name: string; index: number }[] {
  const found: { name: string; index: number }[] = [];
  for (const m of ipLinkOutput.matchAll(new RegExp(`^\\d+: (${NAME_PREFIX}(\\d+)(?:br|tap))[@:]`, 'gm')))
    found.push({ name: m[1]!, index: Number(m[2]) });
  return found;
}

// ---- side effects ---------------------------------------------------------------------------

interface NetworkState {
  index: number;
  owner: number;
  /** The owner's start time (absent in files written before it was kept): a reused PID is not the owner. */
  ownerStartTicks?: string;
  /** net.ipv4.ip_forward before the first guest network came up, to put back after the last. */
  previousIpForward: string;
}

function stateFile(index: number): string {
  return join(stateDir(), 'guest-networks', `${index}.json`);
}

function readStates(): NetworkState[] {
  const dir = join(stateDir(), 'guest-networks');
  if (!existsSync(dir)) return [];
  const states: NetworkState[] = [];
  for (const f of readdirSync(dir)) {
    try {
      states.push(JSON.parse(readRegularFile(join(dir, f), { maxBytes: MiB })) as NetworkState);
    } catch {
      rmSync(join(dir, f), { force: true });
    }
  }
  return states;
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

async function linkExists(name: string): Promise<boolean> {
  return (await runCommand(['ip', 'link', 'show', 'dev', name], { timeoutMs: 5000 })).exitCode === 0;
}

async function savedRules(table: 'nat' | 'filter'): Promise<string> {
  const r = await runCommand(['iptables-save', '-t', table], { timeoutMs: 10_000 });
  return r.exitCode === 0 ? r.stdout : '';
}

async function removeRules(index: number | null): Promise<string[]> {
  const removed: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    for (const rule of ourRulesInSave(await savedRules(table), index)) {
      const r = await runCommand(iptablesDeleteArgv(rule), { timeoutMs: 10_000 });
      if (r.exitCode === 0) removed.push(`iptables -t ${table} ${rule.chain} ${rule.spec.join(' ')}`);
    }
  }
  return removed;
}

export interface GuestNetworkFacts {
  vhostNet: boolean;
  ipForwardWas: string;
}

/** Brings the bridge, tap, forwarding and port maps up. Idempotent; on failure, undoes itself. */
export async function guestNetworkUp(plan: GuestNetworkPlan): Promise<GuestNetworkFacts> {
  const previous = readStates().find((s) => s.index === plan.index);
  const ipForwardNow = readFileSync(IP_FORWARD, 'utf8').trim();
  // Another guest network of ours may have set ip_forward already: keep the value from before the first.
  const earliest = readStates()[0]?.previousIpForward;
  const state: NetworkState = {
    index: plan.index,
    owner: process.pid,
    ownerStartTicks: identityOf(process.pid)?.startTicks,
    previousIpForward: previous?.previousIpForward ?? earliest ?? ipForwardNow,
  };
  mkdirSync(join(stateDir(), 'guest-networks'), { recursive: true });
  writeFileSafely(stateFile(plan.index), JSON.stringify(state));
  try {
    if (!(await linkExists(plan.bridge)))
      await mustRun(['ip', 'link', 'add', plan.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    await mustRun(['ip', 'addr', 'replace', `${plan.bridgeAddress}/${plan.prefixLength}`, 'dev', plan.bridge]);
    await mustRun(['ip', 'link', 'set', plan.bridge, 'up']);
    if (!(await linkExists(plan.tap))) await mustRun(['ip', 'tuntap', 'add', 'dev', plan.tap, 'mode', 'tap']);
    await mustRun(['ip', 'link', 'set', plan.tap, 'master', plan.bridge]);
    await mustRun(['ip', 'link', 'set', plan.tap, 'up']);
    writeFileSync(IP_FORWARD, '1\n');
    await removeRules(plan.index); // a rerun after a crash must not duplicate the rules
    for (const rule of plan.rules) await mustRun(iptablesInsertArgv(rule), { timeoutMs: 10_000 });
  } catch (e) {
    await guestNetworkDown(plan.index);
    throw e;
  }
  return { vhostNet: existsSync('/dev/vhost-net'), ipForwardWas: state.previousIpForward };
}

/** Removes the port maps, tap and bridge of one index and puts ip_forward back after the last. Idempotent. */
export async function guestNetworkDown(index: number): Promise<string[]> {
  const layout = testbedLayout(index).guestNetwork;
  const removed = await removeRules(index);
  for (const name of [layout.tap, layout.bridge]) {
    if (await linkExists(name)) {
      const r = await runCommand(['ip', 'link', 'del', name], { timeoutMs: 10_000 });
      if (r.exitCode === 0) removed.push(`link ${name}`);
    }
  }
  const mine = readStates().find((s) => s.index === index);
  rmSync(stateFile(index), { force: true });
  if (mine && readStates().length === 0 && readFileSync(IP_FORWARD, 'utf8').trim() !== mine.previousIpForward) {
    writeFileSync(IP_FORWARD, `${mine.previousIpForward}\n`);
    removed.push(`net.ipv4.ip_forward restored to ${mine.previousIpForward}`);
  }
  return removed;
}

/**
 * Removes guest networks a killed run left: links named vnet<i>br / vnet<i>tap, iptables rules
 * commented virtnet-guest-<i> and the state file of index i, except those of a run that is still
 * alive. `onlyIndex`: only that testbed's.
 */
export async function cleanupGuestNetworks(onlyIndex: number | null = null): Promise<string[]> {
  const live = new Set(
    readStates()
      .filter((s) => s.owner !== process.pid && isAlive(s.owner, s.ownerStartTicks ?? null))
      .map((s) => s.index),
  );
  const indexes = new Set<number>();
  const links = await runCommand(['ip', '-o', 'link', 'show'], { timeoutMs: 5000 });
  for (const l of ourGuestLinks(links.stdout)) indexes.add(l.index);
  for (const table of ['nat', 'filter'] as const) {
    for (const rule of ourRulesInSave(await savedRules(table))) {
      const m = new RegExp(`${RULE_COMMENT_PREFIX}(\\d+)`).exec(rule.spec.join(' '));
      if (m) indexes.add(Number(m[1]));
    }
  }
  for (const s of readStates()) indexes.add(s.index);
  const removed: string[] = [];
  for (const index of [...indexes].sort((a, b) => a - b)) {
    if (onlyIndex !== null && index !== onlyIndex) continue;
    if (live.has(index)) {
      removed.push(
        `(kept guest network ${index}: its run, PID ${readStates().find((s) => s.index === index)?.owner}, is still going)`,
      );
      continue;
    }
    if (index > 63) continue;
    removed.push(...(await guestNetworkDown(index)));
  }
  return removed;
}
