// The docker environment's decisions, without I/O: container names and labels, the `docker run`
// command, how the image is chosen and tagged, and what dockerd's command line says about the
// userland proxy. Everything here is tested with plain values.

import { createHash } from 'node:crypto';
import { NAME_PREFIX } from '../testbed/testbed.ts';

/** Every container we start carries this label; `virtnet cleanup` removes only labelled ones. */
export const PROJECT_LABEL = 'virtnet';
/** The run (PID and kernel start time) that owns a container: a live owner keeps its container. */
export const OWNER_LABEL = 'virtnet.owner';
export const TESTBED_LABEL = 'virtnet.testbed';
export const IMAGE_REPOSITORY = 'virtnet-netserver';

export type ImageBuild = 'offline-scratch' | 'registry-dockerfile';
export type ImageBuildSetting = 'auto' | 'offline' | 'registry';

export function containerName(testbedIndex: number): string {
  return `${NAME_PREFIX}${testbedIndex}-docker`;
}

/** testbedIndex as the CLI passes it in context.settings, checked. */
export function parseTestbedIndex(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value))
    throw new Error(`docker: settings.testbedIndex must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function parseImageBuildSetting(value: string | undefined): ImageBuildSetting {
  const v = value ?? 'auto';
  if (v === 'auto' || v === 'offline' || v === 'registry') return v;
  throw new Error(
    `docker image build: expected auto, offline or registry (VIRTNET_DOCKER_BUILD), got ${JSON.stringify(value)}`,
  );
}

export interface RunSpec {
  name: string;
  image: string;
  serverAddress: string;
  ports: { control: number; data: number };
  testbedIndex: number;
  owner: { pid: number; startTicks: string };
  /** Default bridge. */
  network?: ContainerNetwork;
  /** The dockerd runtime (`--runtime`); null or absent: docker's default (runc), no flag. */
  dockerRuntime?: string | null;
}

/** The container's network: docker's default bridge with published ports, or the host's namespace. */
export type ContainerNetwork = 'bridge' | 'host';

/** The OCI runtime of the container: docker's default runc, or gVisor's runsc. */
export type ContainerRuntime = 'runc' | 'runsc';

/**
 * What dockerd must have registered for runsc, by the container's network. Docker passes one set of
 * runtime arguments per registered runtime, and the host network needs runsc's own --network=host:
 * with its default (--network=sandbox) runsc builds its network stack from the interfaces of the
 * namespace it is given, taking their addresses away, which in the host's namespace cuts the host
 * off. So two registrations of the same runsc (scripts/start-dockerd.sh writes both).
 */
export const RUNSC_RUNTIMES: Record<ContainerNetwork, { name: string; network: 'sandbox' | 'host' }> = {
  bridge: { name: 'runsc', network: 'sandbox' },
  host: { name: 'runsc-host', network: 'host' },
};

/** The dockerd runtime a container runs under: null for runc (docker's default, no --runtime flag). */
export function dockerRuntimeName(runtime: ContainerRuntime, network: ContainerNetwork): string | null {
  return runtime === 'runc' ? null : RUNSC_RUNTIMES[network].name;
}

/** One runtime as `docker info --format '{{json .Runtimes}}'` lists it. */
export interface RegisteredRuntime {
  path: string;
  runtimeArgs: string[];
}

/** dockerd's runtimes from `docker info --format '{{json .Runtimes}}'`; an Error naming what is wrong. */
export function parseRuntimes(json: string): Record<string, RegisteredRuntime> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`docker info .Runtimes is not JSON: ${JSON.stringify(json.slice(0, 200))}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`docker info .Runtimes is not an object: ${JSON.stringify(json.slice(0, 200))}`);
  const runtimes: Record<string, RegisteredRuntime> = {};
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    const v = (value ?? {}) as { path?: unknown; runtimeArgs?: unknown };
    runtimes[name] = {
      path: typeof v.path === 'string' ? v.path : '',
      runtimeArgs: Array.isArray(v.runtimeArgs) ? v.runtimeArgs.filter((a): a is string => typeof a === 'string') : [],
    };
  }
  return runtimes;
}

/** The value of a runsc flag among runtime arguments (`--flag=value` or `--flag value`), or null. */
export function runscFlag(args: readonly string[], flag: string): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith(`--${flag}=`)) return a.slice(flag.length + 3);
    if (a === `--${flag}` || a === `-${flag}`) return args[i + 1] ?? null;
    if (a.startsWith(`-${flag}=`)) return a.slice(flag.length + 2);
  }
  return null;
}

/** runsc's platform when its arguments name none: ptrace up to the 2023 releases this targets. */
export const RUNSC_DEFAULT_PLATFORM = 'ptrace';

/**
 * Whether dockerd's runtimes let a runsc container run on `network`: the runtime is registered, and
 * its --network flag is the one that network needs. null when it is fine, else why not (for
 * available(), so a user sees how to fix it).
 */
export function runscRuntimeProblem(
  runtimes: Readonly<Record<string, RegisteredRuntime>>,
  network: ContainerNetwork,
): string | null {
  const wanted = RUNSC_RUNTIMES[network];
  const registered = runtimes[wanted.name];
  const how =
    'install runsc (apt-get install runsc) and run scripts/start-dockerd.sh, which registers runsc and runsc-host with the dockerd it starts';
  if (registered === undefined)
    return `dockerd has no runtime named ${wanted.name} (it has ${Object.keys(runtimes).sort().join(', ') || 'none'}): ${how}`;
  const given = runscFlag(registered.runtimeArgs, 'network') ?? 'sandbox';
  if (given !== wanted.network)
    return `dockerd's runtime ${wanted.name} runs runsc with --network=${given}, and the ${network} network needs --network=${wanted.network}${network === 'host' ? " (with its own network stack in the host's namespace runsc would take the host interfaces' addresses)" : " (gVisor's own network stack)"}: ${how}`;
  return null;
}

/**
 * The netserver command inside the container: foreground (-D), no fork per test (-f), IPv4. In the
 * host's namespace it binds the testbed address only (-L), as native's netserver does, so it never
 * answers on another testbed's address or collides with a netserver listening elsewhere.
 */
export function netserverCommand(controlPort: number, bindAddress: string | null = null): string[] {
  return ['netserver', '-D', '-f', '-4', ...(bindAddress ? ['-L', bindAddress] : []), '-p', String(controlPort)];
}

/**
 * `docker run` like the paper's container: default bridge network, the control port and the data
 * port (TCP and UDP) published on the server's testbed address only. The data port keeps its
 * number on both sides because netperf tells netserver which port to listen on and then connects
 * to that same port on the published address. With the host network nothing is published: the
 * container shares the server's namespace and netserver binds the testbed address itself.
 */
export function dockerRunArgs(spec: RunSpec): string[] {
  const a = spec.serverAddress;
  const { control, data } = spec.ports;
  const host = spec.network === 'host';
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
    ...(spec.dockerRuntime ? ['--runtime', spec.dockerRuntime] : []),
    ...(host
      ? ['--network', 'host']
      : [
          '--network',
          'bridge',
          '--publish',
          `${a}:${control}:${control}/tcp`,
          '--publish',
          `${a}:${data}:${data}/tcp`,
          '--publish',
          `${a}:${data}:${data}/udp`,
        ]),
    spec.image,
    ...netserverCommand(control, host ? a : null),
  ];
}

export interface OwnerLabel {
  pid: number;
  startTicks: string;
}

export function parseOwnerLabel(value: string): OwnerLabel | null {
  const m = /^(\d+):(\d+)$/.exec(value.trim());
  return m ? { pid: Number(m[1]), startTicks: m[2]! } : null;
}

/**
 * Whether `virtnet cleanup` may remove a container: its owner is this very process (a test or a
 * run cleaning up after itself), or the owner is gone (no process with that PID and start time).
 * A container without a readable owner label is ours by its project label and is removed.
 */
export function isLeftBehind(
  owner: OwnerLabel | null,
  self: number,
  startTicksOf: (pid: number) => string | null,
): boolean {
  if (owner === null) return true;
  if (owner.pid === self) return true;
  return startTicksOf(owner.pid) !== owner.startTicks;
}

/** The library paths `ldd` lists for a binary (the vDSO has no file and is skipped). */
export function parseLdd(output: string, binary: string): string[] {
  if (/not a dynamic executable|statically linked/.test(output)) return [];
  const paths: string[] = [];
  for (const line of output.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const missing = /^(\S+) => not found/.exec(t);
    if (missing) throw new Error(`${binary} needs ${missing[1]}, which ldd cannot find on this host`);
    const arrow = /=>\s*(\/\S+)/.exec(t);
    if (arrow) {
      paths.push(arrow[1]!);
      continue;
    }
    const direct = /^(\/\S+)\s+\(0x/.exec(t);
    if (direct) paths.push(direct[1]!);
  }
  return [...new Set(paths)];
}

/** The offline image: nothing but netserver and what it links, at their host paths. */
export function offlineDockerfile(netserverPath: string): string {
  return [
    "# virtnet netserver image built without any registry: the host's own netserver binary and the",
    '# libraries ldd lists for it, at their host paths, on an empty base. Generated by env/docker/image.ts.',
    'FROM scratch',
    'COPY rootfs/ /',
    'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    'EXPOSE 12865/tcp 12866/tcp 12866/udp',
    `CMD ["${netserverPath}", "-D", "-f", "-4", "-p", "12865"]`,
    '',
  ].join('\n');
}

/** A file that goes into an image, by its path in the image and the SHA-256 of its content. */
export interface ImageInput {
  path: string;
  sha256: string;
}

/**
 * The tag names the build kind and a hash of every input (the Dockerfile text and each file's
 * path and content), so an image is rebuilt exactly when one of them changes.
 */
export function imageTag(build: ImageBuild, dockerfile: string, inputs: readonly ImageInput[]): string {
  const h = createHash('sha256');
  h.update(`${build}\n${dockerfile}\n`);
  for (const i of [...inputs].sort((a, b) => a.path.localeCompare(b.path))) h.update(`${i.path}\0${i.sha256}\n`);
  const kind = build === 'offline-scratch' ? 'offline' : 'registry';
  return `${IMAGE_REPOSITORY}:${kind}-${h.digest('hex').slice(0, 16)}`;
}

export type UserlandProxyState = 'enabled' | 'disabled' | 'unknown';

function optionValue(argv: readonly string[], option: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith(`${option}=`)) return a.slice(option.length + 1);
    if (a === option) {
      const next = argv[i + 1];
      // A boolean flag given bare (--userland-proxy) means true.
      return next === undefined || next.startsWith('-') ? 'true' : next;
    }
  }
  return undefined;
}

/**
 * The userland proxy state of a dockerd, from its command line and, when the flag is absent, its
 * daemon.json (`"userland-proxy": false`). dockerd's default is enabled. Also returns which
 * daemon.json to read (--config-file, default /etc/docker/daemon.json) so the caller can pass it.
 */
export function configFileOf(dockerdArgv: readonly string[]): string {
  return optionValue(dockerdArgv, '--config-file') ?? '/etc/docker/daemon.json';
}

export function userlandProxyState(
  dockerdArgv: readonly string[] | null,
  daemonJson: string | null,
): { state: UserlandProxyState; source: string } {
  if (dockerdArgv === null) return { state: 'unknown', source: 'no local dockerd process found (remote daemon?)' };
  const flag = optionValue(dockerdArgv, '--userland-proxy');
  if (flag !== undefined)
    return { state: flag === 'false' ? 'disabled' : 'enabled', source: `dockerd --userland-proxy=${flag}` };
  if (daemonJson !== null && daemonJson.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(daemonJson);
    } catch {
      return { state: 'unknown', source: `${configFileOf(dockerdArgv)} is not valid JSON` };
    }
    const v = (parsed as Record<string, unknown>)['userland-proxy'];
    if (v === false) return { state: 'disabled', source: `"userland-proxy": false in ${configFileOf(dockerdArgv)}` };
    if (v === true) return { state: 'enabled', source: `"userland-proxy": true in ${configFileOf(dockerdArgv)}` };
  }
  return { state: 'enabled', source: 'dockerd default (no --userland-proxy flag, nothing in daemon.json)' };
}

/** How to build the image: a setting forces it; auto uses a registry only when one answered. */
export function chooseImageBuild(setting: ImageBuildSetting, registryReachable: boolean | null): ImageBuild {
  if (setting === 'offline') return 'offline-scratch';
  if (setting === 'registry') return 'registry-dockerfile';
  return registryReachable ? 'registry-dockerfile' : 'offline-scratch';
}

/** docker-proxy processes relaying our published ports (there should be none). */
export function proxiesFor(processLines: readonly string[], serverAddress: string): string[] {
  return processLines.filter(
    (l) =>
      /(^|\/|\s)docker-proxy\s/.test(l) &&
      new RegExp(`-host-ip\\s+${serverAddress.replace(/\./g, '\\.')}(\\s|$)`).test(l),
  );
}

/** How gVisor's sandbox runs, as seen from outside it. */
export interface SandboxObservation {
  /** The sandbox process's threads (its /proc/PID/task entries). */
  threads: readonly number[];
  /** The TracerPid of each child process of the sandbox. */
  childTracers: readonly number[];
  /** Where the sandbox's file descriptors point (readlink of /proc/PID/fd/*). */
  fdTargets: readonly string[];
}

/**
 * The platform gVisor's sandbox really uses: ptrace when its child (stub) processes are traced by
 * its own threads, kvm when it holds /dev/kvm open; null when neither shows (too early, or another
 * platform). Recorded beside the platform dockerd was told to use, so a silent fallback would show.
 */
export function observedPlatform(o: SandboxObservation): 'ptrace' | 'kvm' | null {
  const own = new Set(o.threads);
  if (o.childTracers.some((t) => own.has(t))) return 'ptrace';
  if (o.fdTargets.includes('/dev/kvm')) return 'kvm';
  return null;
}
