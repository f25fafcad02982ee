// Docker: netserver in a container on docker's default bridge network, its ports published on the
// server's testbed address like the paper's `docker run -p`; or, as the docker-host variant, in the
// server's own network namespace (`--network host`). dockerd must run without the userland
// proxy, so the published ports are kernel DNAT and we measure the network path, not docker-proxy.
// With the runtime runsc (the gvisor and gvisor-host variants) the same container runs in gVisor.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identityOf, ownIdentity } from '../../actions/lib/core/liveness.ts';
import { runCommand, sleep, waitUntil } from '../../actions/lib/core/proc.ts';
import type { EnvironmentDescription } from '../../actions/lib/measure/records.ts';
import type {
  Availability,
  EnvironmentContext,
  EnvironmentDriver,
  StartedEnvironment,
} from '../../actions/lib/measure/environment.ts';
import { EnvironmentError } from '../../actions/lib/measure/environment.ts';
import { cpuCgroupOf } from '../../actions/lib/measure/cpu-cost.ts';
import { type DockerRunner, imageId, type PreparedImage, prepareImage } from './image.ts';
import { writeFileSafely } from '../../actions/lib/core/safe-write.ts';
import { observedPlatformOf, processesInCgroup, shimsOf } from './sandbox.ts';
import {
  configFileOf,
  containerName,
  type ContainerRuntime,
  dockerRunArgs,
  dockerRuntimeName,
  parseRuntimes,
  RUNSC_DEFAULT_PLATFORM,
  runscFlag,
  runscRuntimeProblem,
  type ImageBuildSetting,
  isLeftBehind,
  netserverCommand,
  OWNER_LABEL,
  parseImageBuildSetting,
  parseOwnerLabel,
  parseTestbedIndex,
  PROJECT_LABEL,
  type ContainerNetwork,
  proxiesFor,
  TESTBED_LABEL,
  userlandProxyState,
  type UserlandProxyState,
} from './spec.ts';

function readTextOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export interface DockerEnvironmentOptions {
  /** The environment docker runs in (DOCKER_HOST and friends); tests point it at a dead socket. */
  env?: NodeJS.ProcessEnv;
  /** Where the offline image context is assembled; default .cache/docker in the repository. */
  cacheDir?: string;
  /** The environment's name and title (a variant's, such as docker-host); default docker. */
  name?: string;
  title?: string;
  /** The container's network; default bridge (the paper's). */
  network?: ContainerNetwork;
  /** The container's OCI runtime; default runc (docker's). runsc: gVisor (the gvisor variants). */
  runtime?: ContainerRuntime;
}

/** A published port held by another process: retry `docker run` for up to 120 x 0.5 s. */
const PORT_BUSY_RETRIES = 120;
const PORT_BUSY_INTERVAL_MS = 500;

const DEFAULT_CACHE_DIR = fileURLToPath(new URL('../../.cache/docker', import.meta.url));

/** docker's error without its "See 'docker run --help'" trailer, on one line. */
export function dockerError(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^(Run|See) 'docker .*--help'/.test(l))
    .join(' | ');
}

function lastLine(text: string): string {
  return dockerError(text).split(' | ').slice(-1)[0] ?? '';
}

/** The local dockerd's command line (the one serving DOCKER_HOST when several run), or null. */
function localDockerdArgv(dockerHost: string | undefined): string[] | null {
  const candidates: string[][] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'dockerd') continue;
      candidates.push(
        readFileSync(`/proc/${entry}/cmdline`, 'utf8')
          .split('\0')
          .filter((a) => a !== ''),
      );
    } catch {
      // the process ended while we looked
    }
  }
  if (candidates.length <= 1) return candidates[0] ?? null;
  const socket = dockerHost?.replace(/^unix:\/\//, '');
  return (socket && candidates.find((argv) => argv.some((a) => a.includes(socket)))) || null;
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function localUserlandProxy(env: NodeJS.ProcessEnv): { state: UserlandProxyState; source: string } {
  const argv = localDockerdArgv(env.DOCKER_HOST);
  return userlandProxyState(argv, argv ? readOrNull(configFileOf(argv)) : null);
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes)$/i.test(value);
}

export function createDockerEnvironment(options: DockerEnvironmentOptions = {}): EnvironmentDriver {
  const env = options.env ?? process.env;
  const envName = options.name ?? 'docker';
  const network: ContainerNetwork = options.network ?? 'bridge';
  const runtime: ContainerRuntime = options.runtime ?? 'runc';
  const dockerRuntime = dockerRuntimeName(runtime, network);
  // Host networking publishes no port: docker-proxy has nothing to relay.
  const publishes = network === 'bridge';
  const cacheDir = options.cacheDir ?? env.VIRTNET_DOCKER_CACHE_DIR ?? DEFAULT_CACHE_DIR;
  const docker: DockerRunner = (args, o = {}) =>
    runCommand(['docker', ...args], { timeoutMs: o.timeoutMs ?? 30_000, input: o.input, signal: o.signal, env });
  const daemonName = () => env.DOCKER_HOST ?? 'the default socket (unix:///var/run/docker.sock)';
  const allowProxy = (settings: Record<string, string>) =>
    truthy(settings.dockerAllowUserlandProxy ?? env.VIRTNET_DOCKER_ALLOW_USERLAND_PROXY);

  async function available(settings: Record<string, string>): Promise<Availability> {
    try {
      await docker(['--version'], { timeoutMs: 10_000 });
    } catch (e) {
      return { ok: false, reason: `no docker CLI: ${(e as Error).message}` };
    }
    const info = await docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 15_000 });
    if (info.timedOut || info.exitCode !== 0 || info.stdout.trim() === '') {
      const why = info.timedOut
        ? 'no answer within 15 s'
        : lastLine(info.stderr) || `docker info exited with ${info.exitCode}`;
      return {
        ok: false,
        reason: `no docker daemon answers at ${daemonName()}: ${why}; start one as root with scripts/start-dockerd.sh`,
      };
    }
    if (runtime === 'runsc') {
      const r = await docker(['info', '--format', '{{json .Runtimes}}'], { timeoutMs: 15_000 });
      let problem: string | null;
      try {
        problem = r.exitCode === 0 ? runscRuntimeProblem(parseRuntimes(r.stdout), network) : lastLine(r.stderr);
      } catch (e) {
        problem = (e as Error).message;
      }
      if (problem !== null) return { ok: false, reason: `${envName}: ${problem}` };
    }
    const proxy = localUserlandProxy(env);
    if (publishes && proxy.state === 'enabled' && !allowProxy(settings)) {
      return {
        ok: false,
        reason: `dockerd runs with the userland proxy (${proxy.source}): published ports would be relayed by docker-proxy, which loses most UDP datagrams; restart dockerd with --userland-proxy=false (scripts/start-dockerd.sh does), or set VIRTNET_DOCKER_ALLOW_USERLAND_PROXY=1 to measure through it anyway`,
      };
    }
    return { ok: true };
  }

  // What the daemon and an image say of themselves does not change while this process runs: asked
  // once, not at every start (the blocked design starts the container once per block, and these
  // calls took ~0.8 s of each start).
  type DaemonFacts = { versions: string; info: string };
  let daemonFacts: Promise<DaemonFacts> | null = null;
  const netserverVersions = new Map<string, Promise<string>>();
  function remembered<T>(get: () => Promise<T>, forget: () => void): Promise<T> {
    const p = get();
    p.catch(forget);
    return p;
  }
  const askDaemon = (): Promise<DaemonFacts> =>
    (daemonFacts ??= remembered(
      async () => {
        const [versions, info] = await Promise.all([
          docker(['version', '--format', '{{json .}}'], { timeoutMs: 30_000 }),
          docker(['info', '--format', '{{json .}}'], { timeoutMs: 30_000 }),
        ]);
        // A failed answer reads as unknown in this start's description, and is asked again next time.
        if (versions.exitCode !== 0 || info.exitCode !== 0) daemonFacts = null;
        return {
          versions: versions.exitCode === 0 ? versions.stdout : '',
          info: info.exitCode === 0 ? info.stdout : '',
        };
      },
      () => {
        daemonFacts = null;
      },
    ));
  const netserverVersionIn = (imageId: string, containerId: string): Promise<string> => {
    let p = netserverVersions.get(imageId);
    if (!p) {
      p = remembered(
        async () => {
          const nsv = await docker(['exec', containerId, 'netserver', '-V'], { timeoutMs: 30_000 });
          const version = nsv.stdout.trim().replace(/^Netperf version\s*/, '');
          if (nsv.exitCode !== 0 || version === '') netserverVersions.delete(imageId); // unknown now, asked again next start
          return (nsv.exitCode === 0 && version) || 'unknown';
        },
        () => netserverVersions.delete(imageId),
      );
      netserverVersions.set(imageId, p);
    }
    return p;
  };

  // Choosing and building the image asks the daemon several questions; within one process a
  // later start reuses the answer as long as the image is still there under the same id. What is
  // remembered is "this image exists", so a reuse always reads as cached: a start that finds it
  // did not build it, whatever the start that made it did.
  const existingImages = new Map<string, PreparedImage>();
  async function preparedImage(setting: ImageBuildSetting, ctx: EnvironmentContext): Promise<PreparedImage> {
    const known = existingImages.get(setting);
    if (known && (await imageId(docker, known.tag)) === known.id) return known;
    const image = await prepareImage(docker, { setting, cacheDir, log: ctx.log, signal: ctx.signal });
    existingImages.set(setting, { ...image, cached: true, buildSeconds: null });
    return image;
  }

  async function removeContainer(id: string): Promise<void> {
    // A runsc container whose start failed leaves its sandbox and gofer running after `docker rm`:
    // they are found by the container's own cgroup (cgroupfs: docker/<id>) and ended by PID. Asked
    // of every container: cleanup removes those of any runtime.
    const fullId = (await docker(['container', 'inspect', '--format', '{{.Id}}', id])).stdout.trim();
    const r = await docker(['rm', '--force', '--volumes', id], { timeoutMs: 60_000 });
    if (r.exitCode !== 0 && !/No such container/i.test(r.stderr))
      throw new Error(`docker rm ${id}: ${lastLine(r.stderr)}`);
    if (/^[0-9a-f]{64}$/.test(fullId)) await endLeftBehind(fullId);
  }

  /**
   * Ends, by PID, what a removed container left: processes in its cgroup and shims named by its id.
   * After a failed runsc start the shim outlives `docker rm`, and containerd may start another one
   * (`shim ... -id <id> delete`) a moment later: looked for again, bounded (50 x 100 ms), asked to
   * end with SIGTERM and killed if still there after a second.
   */
  async function endLeftBehind(fullId: string): Promise<void> {
    const firstSeen = new Map<number, number>();
    for (let attempt = 0; attempt < 50; attempt++) {
      const inCgroup = processesInCgroup(`docker/${fullId}`);
      const shims = shimsOf(fullId);
      if (inCgroup.length === 0 && shims.length === 0) return;
      const signal = (pid: number, sig: NodeJS.Signals) => {
        try {
          process.kill(pid, sig);
        } catch {
          // gone already
        }
      };
      for (const pid of inCgroup) signal(pid, 'SIGKILL');
      for (const pid of shims) {
        if (!firstSeen.has(pid)) firstSeen.set(pid, attempt);
        signal(pid, attempt - firstSeen.get(pid)! >= 10 ? 'SIGKILL' : 'SIGTERM');
      }
      await sleep(100);
    }
  }

  async function start(ctx: EnvironmentContext): Promise<StartedEnvironment> {
    const testbedIndex = parseTestbedIndex(ctx.settings.testbedIndex);
    const name = containerName(testbedIndex);
    const setting = parseImageBuildSetting(ctx.settings.dockerBuild ?? env.VIRTNET_DOCKER_BUILD);
    let image;
    try {
      image = await preparedImage(setting, ctx);
    } catch (e) {
      throw new EnvironmentError(`docker: ${(e as Error).message}`);
    }

    // A container of this name is left from a killed run on this testbed (whose lock we now hold).
    const existing = await docker([
      'container',
      'inspect',
      '--format',
      `{{index .Config.Labels "${PROJECT_LABEL}"}}`,
      name,
    ]);
    if (existing.exitCode === 0) {
      if (existing.stdout.trim() !== '1')
        throw new EnvironmentError(
          `docker: a container named ${name} exists that virtnet did not create (no ${PROJECT_LABEL}=1 label); remove or rename it`,
        );
      ctx.log(`docker: removing ${name}, left behind by an earlier run`);
      await removeContainer(name);
    }

    const owner = ownIdentity();
    const runArgs = dockerRunArgs({
      name,
      image: image.tag,
      serverAddress: ctx.serverAddress,
      ports: ctx.ports,
      testbedIndex,
      owner,
      network,
      dockerRuntime,
    });
    const endpoint = { address: ctx.serverAddress, controlPort: ctx.ports.control, dataPort: ctx.ports.data };
    let started = performance.now();
    let portBusyRetries = 0;
    // Even without the userland proxy, dockerd binds each published port on the host to reserve
    // it. A process listening on the same port on all addresses (a netserver's data socket on
    // another testbed, say) makes that fail for a moment: retry a bounded number of times.
    let run = await docker(runArgs, { timeoutMs: 120_000, signal: ctx.signal });
    for (
      let attempt = 1;
      attempt <= PORT_BUSY_RETRIES &&
      run.exitCode !== 0 &&
      /address already in use/.test(run.stderr) &&
      !ctx.signal?.aborted;
      attempt++
    ) {
      if (attempt === 1)
        ctx.log(
          `docker: a published port of ${name} is busy (${dockerError(run.stderr).split(': ').slice(-2).join(': ')}); retrying for up to ${(PORT_BUSY_RETRIES * PORT_BUSY_INTERVAL_MS) / 1000} s`,
        );
      await removeContainer(name).catch(() => {});
      await sleep(PORT_BUSY_INTERVAL_MS, ctx.signal);
      // Start-up time counts from the attempt that got the ports, not the wait for them.
      portBusyRetries = attempt;
      started = performance.now();
      run = await docker(runArgs, { timeoutMs: 120_000, signal: ctx.signal });
    }
    if (run.exitCode !== 0) {
      await removeContainer(name).catch(() => {});
      const busy = /address already in use/.test(run.stderr)
        ? ` (another process holds the port on this address or on all addresses: see ss -tulpn)`
        : '';
      throw new EnvironmentError(
        `docker: could not start container ${name}: ${dockerError(run.stderr) || dockerError(run.stdout) || `exit ${run.exitCode}`}${busy}`,
      );
    }
    const id = run.stdout.trim().split('\n').pop()!;
    const containerStartedSeconds = (performance.now() - started) / 1000;
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      await removeContainer(id);
      stopped = true;
    };

    const keepLogsAndFail = async (message: string): Promise<never> => {
      mkdirSync(ctx.logDir, { recursive: true });
      const logFile = join(ctx.logDir, `${envName}-netserver.log`);
      const logs = await docker(['logs', '--timestamps', id], { timeoutMs: 30_000 }).catch(() => null);
      const state = await docker(['container', 'inspect', '--format', '{{json .State}}', id], {
        timeoutMs: 30_000,
      }).catch(() => null);
      writeFileSafely(
        logFile,
        `# docker logs ${name} (${id})\n${logs?.stdout ?? ''}${logs?.stderr ?? ''}\n# state\n${state?.stdout ?? '(unknown)'}\n`,
      );
      await stop().catch(() => {});
      throw new EnvironmentError(`${envName}: ${message}`, logFile);
    };

    let exited: string | null = null;
    try {
      await waitUntil(
        `netserver in container ${name}`,
        async () => {
          if (await ctx.probe(endpoint)) return true;
          const s = await docker(['container', 'inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id], {
            timeoutMs: 10_000,
          });
          const [status, code] = s.stdout.trim().split(' ');
          if (s.exitCode !== 0) exited = 'the container is gone';
          else if (status !== 'running' && status !== 'created')
            exited = `the container is ${status} (exit code ${code})`;
          return false;
        },
        { timeoutMs: ctx.readyTimeoutMs, intervalMs: 100, signal: ctx.signal, giveUp: () => exited },
      );
    } catch (e) {
      return keepLogsAndFail((e as Error).message);
    }
    const startupSeconds = (performance.now() - started) / 1000;

    // Anything failing from here on must not leave the container running.
    let description: EnvironmentDescription;
    const containerPids: number[] = [];
    const cpuCgroups: string[] = [];
    try {
      // Belt and braces after the daemon check: no docker-proxy may relay our ports.
      // Independent questions, asked at once.
      const [ps, daemon, net, netserver] = await Promise.all([
        runCommand(['ps', '-eo', 'args'], { timeoutMs: 10_000 }),
        askDaemon(),
        docker(
          [
            'container',
            'inspect',
            '--format',
            '{{.HostConfig.NetworkMode}} {{.NetworkSettings.IPAddress}} {{.State.Pid}}',
            id,
          ],
          { timeoutMs: 30_000 },
        ),
        netserverVersionIn(image.id, id),
      ]);
      const proxies = proxiesFor(ps.stdout.split('\n'), ctx.serverAddress);
      if (publishes && proxies.length > 0 && !allowProxy(ctx.settings)) {
        return await keepLogsAndFail(
          `docker-proxy relays the published ports (${proxies.length} processes, e.g. ${proxies[0]}); restart dockerd with --userland-proxy=false`,
        );
      }
      const v = JSON.parse(daemon.versions.trim() || '{}') as {
        Client?: { Version?: string; ApiVersion?: string };
        Server?: { Version?: string; ApiVersion?: string; KernelVersion?: string };
      };
      const i = JSON.parse(daemon.info.trim() || '{}') as {
        Runtimes?: Record<string, { path?: string; runtimeArgs?: string[] }>;
        Driver?: string;
        CgroupVersion?: string;
        CgroupDriver?: string;
        OperatingSystem?: string;
      };
      const [networkMode = 'unknown', bridgeAddress = '', initPid = ''] = net.stdout.trim().split(' ');
      // The container's netserver runs under containerd, not under this process: named, so the
      // sweep watches its wait for a CPU (and its children's, which serve the tests).
      if (/^[1-9]\d*$/.test(initPid)) containerPids.push(Number(initPid));
      // Its CPU cost: the container's cgroup holds netserver and the children that serve the tests,
      // or, under runsc, gVisor's sandbox and gofer (the containerd shim that watches them is not in it).
      const cgroupText = containerPids.length > 0 ? readTextOrNull(`/proc/${containerPids[0]}/cgroup`) : null;
      const cgroup = cgroupText === null ? null : cpuCgroupOf(cgroupText);
      if (cgroup !== null) cpuCgroups.push(cgroup);
      const gvisor = runtime === 'runsc' ? await gvisorFacts(i.Runtimes ?? {}, containerPids[0] ?? null) : null;
      // In the host's namespace the container has no address of its own: netserver binds the testbed's.
      const containerAddress =
        network === 'host' ? `${ctx.serverAddress} (the server's own namespace)` : bridgeAddress || 'unknown';
      const proxy = localUserlandProxy(env);
      const { control, data } = ctx.ports;
      const ports = publishes
        ? `${ctx.serverAddress}:${control}->${control}/tcp, ${ctx.serverAddress}:${data}->${data}/tcp, ${ctx.serverAddress}:${data}->${data}/udp`
        : `none published (host network: netserver listens on ${ctx.serverAddress}:${control})`;
      const server = v.Server?.Version ?? 'unknown';
      description = {
        name: envName,
        summary: `Docker ${server} (client ${v.Client?.Version ?? '?'})${gvisor ? `, ${gvisor.summary}` : ''}, ${networkMode} network, ${image.build} image ${image.id.replace(/^sha256:/, '').slice(0, 12)}, netserver ${netserver}`,
        details: {
          dockerClient: v.Client?.Version ?? 'unknown',
          dockerServer: server,
          dockerApi: v.Server?.ApiVersion ?? 'unknown',
          storageDriver: i.Driver ?? 'unknown',
          cgroup: `${i.CgroupVersion ?? '?'} (${i.CgroupDriver ?? '?'})`,
          image: image.tag,
          imageId: image.id,
          imageBuild: image.build,
          imageBuildReason: image.reason,
          imageBuildSeconds: image.buildSeconds === null ? 'cached' : image.buildSeconds.toFixed(1),
          netserver,
          networkMode,
          containerAddress,
          ports,
          userlandProxy:
            proxy.state === 'enabled'
              ? `enabled (${proxy.source}; allowed by setting)`
              : `${proxy.state} (${proxy.source})`,
          dockerProxyProcesses: String(proxies.length),
          container: `${name} ${id.slice(0, 12)}`,
          /** Seconds until `docker run` returned; startupSeconds runs on until netserver answers. */
          containerStartSeconds: containerStartedSeconds.toFixed(2),
          portBusyRetries: String(portBusyRetries),
          command: ['docker', ...runArgs].join(' '),
          containerCommand: netserverCommand(control, publishes ? null : ctx.serverAddress).join(' '),
          runtime: dockerRuntime ?? 'runc (docker default)',
          cpuCgroup: cpuCgroups[0] ?? 'unknown (its CPU cost is not recorded)',
          ...(gvisor?.details ?? {}),
        },
        accelerator: 'none',
        startupSeconds,
      };
    } catch (e) {
      if (e instanceof EnvironmentError) throw e;
      return keepLogsAndFail(`could not describe the running container: ${(e as Error).message}`);
    }
    return {
      endpoint,
      stop,
      description,
      pathPids: () => containerPids,
      cpuScope: () => ({ cgroups: cpuCgroups, pids: [] }),
    };
  }

  /** What the manifest says of gVisor: runsc's version and platform, as registered and as seen. */
  async function gvisorFacts(
    registered: Record<string, { path?: string; runtimeArgs?: string[] }>,
    sandboxPid: number | null,
  ): Promise<{ summary: string; details: Record<string, string> }> {
    const name = dockerRuntime!;
    const r = registered[name] ?? {};
    const path = r.path ?? 'unknown';
    const args = r.runtimeArgs ?? [];
    const version = path === 'unknown' ? null : await runCommand([path, '--version'], { timeoutMs: 15_000 });
    const runscVersion = (version?.exitCode === 0 && /runsc version (\S+)/.exec(version.stdout)?.[1]) || 'unknown';
    const platform = runscFlag(args, 'platform') ?? `${RUNSC_DEFAULT_PLATFORM} (runsc's default)`;
    const seen = sandboxPid === null ? null : observedPlatformOf(sandboxPid);
    const runscNetwork = runscFlag(args, 'network') ?? 'sandbox';
    return {
      summary: `gVisor runsc ${runscVersion} (${platform.split(' ')[0]} platform, ${runscNetwork === 'host' ? "host kernel's sockets" : 'netstack'})`,
      details: {
        runscVersion,
        runscPath: path,
        runscArgs: args.join(' ') || '(none)',
        runscPlatform: platform,
        runscPlatformSeen: seen ?? 'unknown (neither traced stubs nor /dev/kvm seen)',
        runscNetwork:
          runscNetwork === 'host'
            ? "host (runsc --network=host: the host kernel's sockets)"
            : `${runscNetwork} (gVisor's own network stack, netstack)`,
      },
    };
  }

  async function cleanup(onlyIndex: number | null = null): Promise<string[]> {
    let ls;
    // Published ports are docker's own DNAT rules: removing the container removes them.
    const filters = [
      '--filter',
      `label=${PROJECT_LABEL}=1`,
      ...(onlyIndex === null ? [] : ['--filter', `label=${TESTBED_LABEL}=${onlyIndex}`]),
    ];
    try {
      ls = await docker(['ps', '--all', ...filters, '--format', `{{.ID}}\t{{.Names}}\t{{.Label "${OWNER_LABEL}"}}`], {
        timeoutMs: 30_000,
      });
    } catch {
      return []; // no docker CLI: no container of ours can exist
    }
    if (ls.exitCode !== 0) return []; // no daemon: nothing of ours runs
    const removed: string[] = [];
    for (const line of ls.stdout.split('\n')) {
      const [id, name, ownerText = ''] = line.split('\t');
      if (!id || !name) continue;
      const owner = parseOwnerLabel(ownerText);
      // The liveness rule of core/liveness.ts: a live process with the recorded start time.
      if (!isLeftBehind(owner, process.pid, (pid) => identityOf(pid)?.startTicks ?? null)) {
        removed.push(`(kept container ${name}: its run, PID ${owner!.pid}, is still going)`);
        continue;
      }
      await removeContainer(id);
      removed.push(`container ${name} (${id})`);
    }
    return removed;
  }

  return { name: envName, title: options.title ?? 'Docker', available, start, cleanup };
}

export const dockerEnvironment: EnvironmentDriver = createDockerEnvironment();
