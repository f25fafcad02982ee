// The podman-rootless environment's decisions, without I/O: the unprivileged user, the container's
// name, what each network mode needs of the installed Podman, the `podman run` command, the commands
// run as that user, and how the container's slirp4netns is told apart from other processes.

import { NAME_PREFIX } from '../testbed/testbed.ts';
import { netserverCommand, OWNER_LABEL, PROJECT_LABEL, TESTBED_LABEL } from '../docker/spec.ts';

/** The unprivileged user whose Podman runs the container; scripts/prepare-podman-user.sh creates it. */
export const PODMAN_USER = 'virtnet-podman';
export const PREPARE_SCRIPT = 'scripts/prepare-podman-user.sh';

/**
 * The rootless container's network: slirp4netns (user-mode TCP/IP in a process) forwarding the
 * published ports itself, slirp4netns with rootless Podman's default port handler (rootlesskit's
 * rootlessport), or pasta.
 */
export const PODMAN_NETWORKS = ['slirp4netns', 'slirp4netns-rootlesskit', 'pasta'] as const;
export type PodmanNetwork = (typeof PODMAN_NETWORKS)[number];

/** Whether the container's network is slirp4netns (whichever process forwards its ports). */
export function usesSlirp4netns(network: PodmanNetwork): boolean {
  return network !== 'pasta';
}

/** `podman run --network pasta` came with Podman 4.4; an older Podman reads "pasta" as a network's name. */
export const PASTA_SINCE: Version = [4, 4, 0];

export type Version = readonly [number, number, number];

export function containerName(testbedIndex: number): string {
  return `${NAME_PREFIX}${testbedIndex}-podman`;
}

/** The version in `podman --version` ("podman version 4.3.1"), or null if there is none. */
export function parsePodmanVersion(text: string): Version | null {
  const m = /\bversion\s+(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

/** The version in `slirp4netns --version`'s first line ("slirp4netns version 1.2.0"), or 'unknown'. */
export function parseSlirp4netnsVersion(text: string): string {
  return /^slirp4netns version (\S+)/m.exec(text)?.[1] ?? 'unknown';
}

export function atLeast(version: Version, least: Version): boolean {
  for (let i = 0; i < 3; i++) if (version[i] !== least[i]) return version[i]! > least[i]!;
  return true;
}

const formatVersion = (v: Version) => v.join('.');

/** Whether this Podman offers `network`; if not, the reason a run or a test shows. */
export function networkSupport(network: PodmanNetwork, podman: Version): { ok: true } | { ok: false; reason: string } {
  if (network === 'pasta' && !atLeast(podman, PASTA_SINCE))
    return {
      ok: false,
      reason: `Podman ${formatVersion(podman)} has no --network pasta (Podman's pasta support came with ${formatVersion(PASTA_SINCE)})`,
    };
  return { ok: true };
}

/**
 * What `--network` says. With `slirp4netns`, slirp4netns also forwards the published ports
 * (port_handler=slirp4netns), so the user-mode stack whose cost is the question is on the measured
 * path. With rootless Podman's default handler (`slirp4netns-rootlesskit`) inbound connections are
 * accepted by a rootlessport process on the host and copied into the container's namespace by it,
 * never passing through slirp4netns: the path a rootless container's published ports take by default.
 */
export function networkArgument(network: PodmanNetwork): string {
  if (network === 'slirp4netns') return 'slirp4netns:port_handler=slirp4netns';
  if (network === 'slirp4netns-rootlesskit') return 'slirp4netns:port_handler=rootlesskit';
  return 'pasta';
}

/** The process that forwards the published ports, by name. */
export function portForwarder(network: PodmanNetwork): string {
  return network === 'slirp4netns-rootlesskit' ? 'rootlessport' : network;
}

/**
 * The OCI runtime: crun (Podman's own) refuses a hybrid cgroup layout (v1 controllers with an empty
 * v2 hierarchy at /sys/fs/cgroup/unified) with "cgroups in hybrid mode not supported"; runc runs there.
 */
export function ociRuntime(hybridCgroups: boolean): 'crun' | 'runc' {
  return hybridCgroups ? 'runc' : 'crun';
}

/** A podman command as `user`, from root; runuser gives it the user's HOME, USER and LOGNAME. */
export function asUser(user: string, podmanArgs: readonly string[]): string[] {
  return ['runuser', '-u', user, '--', 'podman', ...podmanArgs];
}

export interface PodmanRunSpec {
  name: string;
  image: string;
  serverAddress: string;
  ports: { control: number; data: number };
  testbedIndex: number;
  owner: { pid: number; startTicks: string };
  network: PodmanNetwork;
  runtime: 'crun' | 'runc';
}

/**
 * `podman run` like docker's: labelled as the project's, the control port and the data port (TCP
 * and UDP) published on the server's testbed address under the same numbers (netperf tells
 * netserver the data port and connects to that number on the published address).
 */
export function podmanRunArgs(spec: PodmanRunSpec): string[] {
  const a = spec.serverAddress;
  const { control, data } = spec.ports;
  return [
    'run',
    '--detach',
    '--name',
    spec.name,
    '--label',
    `${PROJECT_LABEL}=1`,
    '--label',
    `${TESTBED_LABEL}=${spec.testbedIndex}`,
    '--label',
    `${OWNER_LABEL}=${spec.owner.pid}:${spec.owner.startTicks}`,
    '--runtime',
    spec.runtime,
    '--network',
    networkArgument(spec.network),
    '--publish',
    `${a}:${control}:${control}/tcp`,
    '--publish',
    `${a}:${data}:${data}/tcp`,
    '--publish',
    `${a}:${data}:${data}/udp`,
    spec.image,
    ...netserverCommand(control),
  ];
}

/** The `podman import` options that make a root file system tarball the netserver image. */
export function importChanges(netserverPath: string, controlPort = 12865): string[] {
  return [
    '--change',
    'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    '--change',
    `LABEL ${PROJECT_LABEL}=1`,
    '--change',
    `CMD ["${netserverPath}", "-D", "-f", "-4", "-p", "${controlPort}"]`,
  ];
}

export interface ProcessLine {
  pid: number;
  user: string;
  state: string;
  args: string;
}

/** `ps -eo pid=,user:32=,stat=,args=` lines, parsed; lines that do not fit are skipped. */
export function parsePs(output: string): ProcessLine[] {
  const lines: ProcessLine[] = [];
  for (const line of output.split('\n')) {
    const m = /^\s*(\d+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(line);
    if (m) lines.push({ pid: Number(m[1]), user: m[2]!, state: m[3]!, args: m[4]! });
  }
  return lines;
}

/** A process that has ended and waits to be reaped holds nothing (no socket, no CPU). */
const isLive = (p: ProcessLine) => !p.state.startsWith('Z');

/**
 * The slirp4netns serving a container: Podman starts it with the container's network namespace
 * path (`--netns-type=path PATH tap0`), which names that container alone.
 */
export function slirp4netnsFor(processes: readonly ProcessLine[], netnsPath: string): ProcessLine[] {
  if (netnsPath === '') return [];
  return processes.filter(
    (p) => isLive(p) && /(^|\/)slirp4netns\s/.test(p.args) && p.args.split(/\s+/).includes(netnsPath),
  );
}

/**
 * The user's live processes that serve containers (slirp4netns, conmon and what runs inside), not
 * Podman's rootless pause process, which only holds the user's namespaces for its next command.
 */
export function containerProcesses(processes: readonly ProcessLine[], user: string): ProcessLine[] {
  return processes.filter((p) => p.user === user && isLive(p) && !/^podman( pause)?$/.test(p.args.trim()));
}

/**
 * The cgroup a process's CPU time is accounted in, from its /proc/PID/cgroup: the cgroup v1 cpuacct
 * hierarchy's path where that controller is mounted, else the v2 path; null if neither is listed.
 */
export function accountingCgroup(procCgroup: string): string | null {
  let v2: string | null = null;
  for (const line of procCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1]!.split(',').includes('cpuacct')) return m[2]!;
    if (m[1] === '') v2 = m[2]!;
  }
  return v2;
}

export interface ForwarderChild {
  pid: number;
  ppid: number;
  /** Its network namespace, as /proc/PID/ns/net links to it ("net:[4026532...]"). */
  netns: string;
}

/**
 * rootlesskit's port forwarder for a container: the rootlessport-child in the container's network
 * namespace (it dials netserver there) and its parent, the rootlessport that listens on the host
 * and copies every byte between the two.
 */
export function rootlessportFor(children: readonly ForwarderChild[], containerNetns: string): number[] {
  if (containerNetns === '') return [];
  return children.filter((c) => c.netns === containerNetns).flatMap((c) => [c.ppid, c.pid]);
}

export interface ContainerProcessIds {
  /** The container's PID 1: netserver, which serves every test itself (-f). */
  netserver: number | null;
  /** conmon, which watches the container from outside it. */
  conmon: number | null;
  /** The user-mode network's processes (slirp4netns, rootlessport), outside the container in any case. */
  network: readonly number[];
  /** accountingCgroup of netserver and of conmon (null: unknown). */
  netserverCgroup: string | null;
  conmonCgroup: string | null;
}

/**
 * What the container's CPU cost counts: the container's own cgroup where it has one (netserver's
 * accounting cgroup differs from conmon's; netserver is then not counted again by PID), else
 * netserver by PID: rootless Podman makes no cgroup on cgroup v1, whose controllers cannot be
 * delegated to a user (`podman inspect` still names the path it would have used). conmon and
 * slirp4netns always by PID.
 */
export function cpuScopeOf(ids: ContainerProcessIds): { cgroups: string[]; pids: number[] } {
  const c = ids.netserverCgroup;
  const own = c !== null && c !== '/' && ids.conmonCgroup !== null && c !== ids.conmonCgroup;
  const pids = [own ? null : ids.netserver, ids.conmon, ...ids.network].filter(
    (p): p is number => p !== null && Number.isInteger(p) && p > 0,
  );
  return { cgroups: own ? [c.replace(/^\//, '')] : [], pids };
}
