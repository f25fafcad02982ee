// Rootless Podman: netserver in a container that an unprivileged user's Podman runs, with user-mode
// networking (slirp4netns; pasta where Podman has it), its ports published on the server's testbed
// address like docker's. The image is the docker environment's offline one (the host's netserver and
// the libraries it links), imported into the user's storage from a tarball: no registry is asked.

import { readFileSync, readlinkSync, statSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identityOf, ownIdentity } from '../../actions/lib/core/liveness.ts';
import { type CommandResult, runCommand, runCommandBytes, sleep, waitUntil } from '../../actions/lib/core/proc.ts';
import { writeFileSafely } from '../../actions/lib/core/safe-write.ts';
import type {
  Availability,
  CpuScope,
  EnvironmentContext,
  EnvironmentDriver,
  StartedEnvironment,
} from '../../actions/lib/measure/environment.ts';
import { EnvironmentError } from '../../actions/lib/measure/environment.ts';
import type { EnvironmentDescription } from '../../actions/lib/measure/records.ts';
import { findOnPath, offlineInputs, writeOfflineRootfs } from '../docker/image.ts';
import {
  imageTag,
  isLeftBehind,
  netserverCommand,
  OWNER_LABEL,
  parseOwnerLabel,
  parseTestbedIndex,
  PROJECT_LABEL,
  TESTBED_LABEL,
} from '../docker/spec.ts';
import {
  asUser,
  containerName,
  accountingCgroup,
  containerProcesses,
  cpuScopeOf,
  importChanges,
  networkArgument,
  networkSupport,
  ociRuntime,
  parsePodmanVersion,
  parsePs,
  parseSlirp4netnsVersion,
  portForwarder,
  rootlessportFor,
  usesSlirp4netns,
  type PodmanNetwork,
  podmanRunArgs,
  PODMAN_USER,
  PREPARE_SCRIPT,
  slirp4netnsFor,
  type Version,
} from './spec.ts';

export interface PodmanEnvironmentOptions {
  name?: string;
  title?: string;
  /** Default slirp4netns. */
  network?: PodmanNetwork;
  /** The unprivileged user; default PODMAN_USER (tests may name another). */
  user?: string;
  /** Where the image's root file system is assembled; default .cache/podman in the repository. */
  cacheDir?: string;
}

const DEFAULT_CACHE_DIR = fileURLToPath(new URL('../../.cache/podman', import.meta.url));
/** A published port held by another process for a moment: retry `podman run` for up to 40 x 0.5 s. */
const PORT_BUSY_RETRIES = 40;
const PORT_BUSY_INTERVAL_MS = 500;
const HYBRID_CGROUP_MARK = '/sys/fs/cgroup/unified';
/** How long stop waits for conmon, slirp4netns and rootlessport to end after `podman rm`. */
const PROCESS_END_TIMEOUT_MS = 10_000;

/** Podman's message without the warnings it prints on every command here ("/" is not a shared mount). */
export function podmanError(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/level=warning/.test(l))
    .map((l) => l.replace(/^Error: /, ''))
    .join(' | ');
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Whether a process runs (an ended one waiting to be reaped does not). */
function isLive(pid: number): boolean {
  const stat = readOrNull(`/proc/${pid}/stat`);
  return stat !== null && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** A process's parent PID (0 if it is gone). */
function parentOf(pid: number): number {
  const stat = readOrNull(`/proc/${pid}/stat`);
  return Number(stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? 0) || 0;
}

/** A process's network namespace as its /proc link names it, or '' if it is gone. */
function netnsOf(pid: number): string {
  try {
    return pid > 0 ? readlinkSync(`/proc/${pid}/ns/net`) : '';
  } catch {
    return '';
  }
}

function why(r: CommandResult): string {
  if (r.timedOut) return 'no answer in time';
  return podmanError(r.stderr) || podmanError(r.stdout) || `exit ${r.exitCode}`;
}

/** Whether the machine mounts cgroup v1 controllers beside an (empty) v2 hierarchy. */
export function hybridCgroups(): boolean {
  try {
    return (
      existsSync(HYBRID_CGROUP_MARK) && readFileSync('/proc/mounts', 'utf8').includes(` ${HYBRID_CGROUP_MARK} cgroup2 `)
    );
  } catch {
    return false;
  }
}

export function createPodmanEnvironment(options: PodmanEnvironmentOptions = {}): EnvironmentDriver {
  const envName = options.name ?? 'podman-rootless';
  const network: PodmanNetwork = options.network ?? 'slirp4netns';
  const user = options.user ?? PODMAN_USER;
  const cacheDir = options.cacheDir ?? process.env.VIRTNET_PODMAN_CACHE_DIR ?? DEFAULT_CACHE_DIR;
  // runuser gives the user's HOME, USER and LOGNAME; the rest of root's environment (XDG_RUNTIME_DIR
  // above all, which would point Podman at root's runtime directory) stays out.
  const userEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
  const podman = (args: string[], o: { timeoutMs?: number; input?: Buffer; signal?: AbortSignal } = {}) =>
    runCommand(asUser(user, args), {
      timeoutMs: o.timeoutMs ?? 30_000,
      input: o.input,
      signal: o.signal,
      env: userEnv,
      cwd: '/',
    });

  async function installedVersion(): Promise<Version | null> {
    const r = await runCommand(['podman', '--version'], { timeoutMs: 10_000 }).catch(() => null);
    return r && r.exitCode === 0 ? parsePodmanVersion(r.stdout) : null;
  }

  async function available(): Promise<Availability> {
    const version = await installedVersion();
    if (version === null)
      return { ok: false, reason: 'podman is not installed (scripts/install-system-packages.sh installs it)' };
    const support = networkSupport(network, version);
    if (!support.ok) return support;
    if (usesSlirp4netns(network) && findOnPath('slirp4netns') === null)
      return { ok: false, reason: 'slirp4netns is not installed (scripts/install-system-packages.sh installs it)' };
    const runtime = ociRuntime(hybridCgroups());
    if (findOnPath(runtime) === null)
      return {
        ok: false,
        reason: `the OCI runtime ${runtime} is not installed (this machine's cgroup layout needs it)`,
      };
    if (process.getuid?.() !== 0)
      return { ok: false, reason: `${envName} runs Podman as the user ${user} through runuser, which needs root` };
    const passwd = await runCommand(['getent', 'passwd', user], { timeoutMs: 10_000 });
    if (passwd.exitCode !== 0) return { ok: false, reason: `no user ${user}: run ${PREPARE_SCRIPT} as root` };
    for (const file of ['/etc/subuid', '/etc/subgid']) {
      const ranges = existsSync(file) ? readFileSync(file, 'utf8') : '';
      if (!ranges.split('\n').some((l) => l.startsWith(`${user}:`)))
        return { ok: false, reason: `${user} has no range in ${file}: run ${PREPARE_SCRIPT} as root` };
    }
    if (usesSlirp4netns(network)) {
      const tun = existsSync('/dev/net/tun') ? statSync('/dev/net/tun').mode & 0o777 : null;
      if (tun === null || (tun & 0o006) !== 0o006)
        return {
          ok: false,
          reason: `slirp4netns needs /dev/net/tun open to every user (${tun === null ? 'it is missing' : `its mode is ${tun.toString(8)}`}); ${PREPARE_SCRIPT} gives it the distributions' usual 0666`,
        };
    }
    const info = await podman(['info', '--format', '{{.Host.Security.Rootless}}'], { timeoutMs: 60_000 });
    if (info.exitCode !== 0 || info.stdout.trim() !== 'true')
      return { ok: false, reason: `podman info as ${user} failed: ${why(info)}` };
    return { ok: true };
  }

  // What Podman says of itself does not change while this process runs: asked once.
  type Facts = { podman: string; slirp4netns: string; info: Record<string, unknown> };
  let facts: Promise<Facts> | null = null;
  const askFacts = (): Promise<Facts> =>
    (facts ??= (async () => {
      const [version, slirp, info] = await Promise.all([
        podman(['version', '--format', '{{.Client.Version}}']),
        runCommand(['slirp4netns', '--version'], { timeoutMs: 10_000 }).catch(() => null),
        podman(['info', '--format', 'json'], { timeoutMs: 60_000 }),
      ]);
      let parsed: Record<string, unknown> | null = null;
      try {
        parsed = info.exitCode === 0 ? (JSON.parse(info.stdout) as Record<string, unknown>) : null;
      } catch {
        // read as unknown below
      }
      // A failed answer reads as unknown in this start's description, and is asked again next time.
      if (version.exitCode !== 0 || parsed === null) facts = null;
      return {
        podman: version.exitCode === 0 ? version.stdout.trim() : 'unknown',
        slirp4netns: slirp ? parseSlirp4netnsVersion(slirp.stdout) : 'not installed',
        info: parsed ?? {},
      };
    })());

  async function imageIdOf(tag: string): Promise<string | null> {
    const r = await podman(['image', 'inspect', '--format', '{{.Id}}', tag]);
    return r.exitCode === 0 ? r.stdout.trim() : null;
  }

  /** The offline image in the user's storage, imported from a tarball of its root file system if missing. */
  async function preparedImage(
    ctx: EnvironmentContext,
  ): Promise<{ tag: string; id: string; importSeconds: number | null }> {
    const { netserver, files, dockerfile } = await offlineInputs();
    const tag = imageTag('offline-scratch', dockerfile, files);
    const existing = await imageIdOf(tag);
    if (existing !== null) return { tag, id: existing, importSeconds: null };
    const rootfs = join(cacheDir, 'rootfs');
    rmSync(rootfs, { recursive: true, force: true });
    mkdirSync(rootfs, { recursive: true });
    writeOfflineRootfs(rootfs, files);
    ctx.log(
      `${envName}: importing the offline image ${tag} into ${user}'s storage (${netserver} + ${files.length - 1} libraries)`,
    );
    const started = performance.now();
    const tar = await runCommandBytes(
      ['tar', '--create', '--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '.'],
      {
        timeoutMs: 60_000,
      },
    );
    if (tar.exitCode !== 0) throw new Error(`tar of ${rootfs} failed: ${tar.stderr.trim()}`);
    const imported = await podman(['import', ...importChanges(netserver), '-', tag], {
      timeoutMs: 300_000,
      input: tar.stdout,
      signal: ctx.signal,
    });
    if (imported.exitCode !== 0) throw new Error(`podman import of the offline image failed: ${why(imported)}`);
    const id = await imageIdOf(tag);
    if (id === null) throw new Error(`podman image ${tag} is missing right after it was imported`);
    return { tag, id, importSeconds: (performance.now() - started) / 1000 };
  }

  async function removeContainer(id: string): Promise<void> {
    // --time 0: netserver as the container's PID 1 has no SIGTERM handler, so Podman would wait 10 s.
    const r = await podman(['rm', '--force', '--time', '0', id], { timeoutMs: 60_000 });
    if (r.exitCode !== 0 && !/no such container/i.test(r.stderr)) throw new Error(`podman rm ${id}: ${why(r)}`);
  }

  async function processes(): Promise<ReturnType<typeof parsePs>> {
    const ps = await runCommand(['ps', '-eo', 'pid=,user:32=,stat=,args='], { timeoutMs: 10_000 });
    return parsePs(ps.stdout);
  }

  async function start(ctx: EnvironmentContext): Promise<StartedEnvironment> {
    const testbedIndex = parseTestbedIndex(ctx.settings.testbedIndex);
    const name = containerName(testbedIndex);
    const version = await installedVersion();
    if (version === null) throw new EnvironmentError(`${envName}: podman is not installed`);
    const support = networkSupport(network, version);
    if (!support.ok) throw new EnvironmentError(`${envName}: ${support.reason}`);
    let image;
    try {
      image = await preparedImage(ctx);
    } catch (e) {
      throw new EnvironmentError(`${envName}: ${(e as Error).message}`);
    }

    // A container of this name is left from a killed run on this testbed (whose lock we now hold).
    const existing = await podman([
      'container',
      'inspect',
      '--format',
      `{{index .Config.Labels "${PROJECT_LABEL}"}}`,
      name,
    ]);
    if (existing.exitCode === 0) {
      if (existing.stdout.trim() !== '1')
        throw new EnvironmentError(
          `${envName}: ${user}'s Podman has a container named ${name} that virtnet did not create (no ${PROJECT_LABEL}=1 label); remove or rename it`,
        );
      ctx.log(`${envName}: removing ${name}, left behind by an earlier run`);
      await removeContainer(name);
    }

    const runtime = ociRuntime(hybridCgroups());
    const runArgs = podmanRunArgs({
      name,
      image: image.tag,
      serverAddress: ctx.serverAddress,
      ports: ctx.ports,
      testbedIndex,
      owner: ownIdentity(),
      network,
      runtime,
    });
    const endpoint = { address: ctx.serverAddress, controlPort: ctx.ports.control, dataPort: ctx.ports.data };
    let started = performance.now();
    let run = await podman(runArgs, { timeoutMs: 120_000, signal: ctx.signal });
    // A netserver's data socket on all addresses (another testbed's) can hold a port for a moment.
    let portBusyRetries = 0;
    while (
      portBusyRetries < PORT_BUSY_RETRIES &&
      run.exitCode !== 0 &&
      /address already in use/i.test(run.stderr) &&
      !ctx.signal?.aborted
    ) {
      portBusyRetries++;
      await removeContainer(name).catch(() => {});
      await sleep(PORT_BUSY_INTERVAL_MS, ctx.signal);
      started = performance.now();
      run = await podman(runArgs, { timeoutMs: 120_000, signal: ctx.signal });
    }
    if (run.exitCode !== 0) {
      await removeContainer(name).catch(() => {});
      throw new EnvironmentError(`${envName}: could not start container ${name}: ${why(run)}`);
    }
    const id = run.stdout.trim().split('\n').pop()!;
    const containerStartSeconds = (performance.now() - started) / 1000;
    let stopped = false;
    let scope: CpuScope = { cgroups: [], pids: [] };
    const stop = async () => {
      if (stopped) return;
      await removeContainer(id);
      // conmon and the port forwarders end a moment after `podman rm` returns: the next
      // environment must not start beside them.
      await waitUntil("the container's processes to end", async () => scope.pids.every((p) => !isLive(p)), {
        timeoutMs: PROCESS_END_TIMEOUT_MS,
        intervalMs: 50,
      }).catch(() => ctx.log(`${envName}: PIDs ${scope.pids.filter(isLive).join(' ')} still run after podman rm`));
      stopped = true;
    };
    const keepLogsAndFail = async (message: string): Promise<never> => {
      mkdirSync(ctx.logDir, { recursive: true });
      const logFile = join(ctx.logDir, `${envName}-netserver.log`);
      const logs = await podman(['logs', '--timestamps', id]).catch(() => null);
      const state = await podman(['container', 'inspect', '--format', '{{json .State}}', id]).catch(() => null);
      writeFileSafely(
        logFile,
        `# podman logs ${name} (${id}) as ${user}\n${logs?.stdout ?? ''}${logs?.stderr ?? ''}\n# state\n${state?.stdout ?? '(unknown)'}\n`,
      );
      await stop().catch(() => {});
      throw new EnvironmentError(`${envName}: ${message}`, logFile);
    };

    let exited: string | null = null;
    try {
      await waitUntil(
        `netserver in ${user}'s container ${name}`,
        async () => {
          if (await ctx.probe(endpoint)) return true;
          const s = await podman(['container', 'inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id]);
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

    let description: EnvironmentDescription;
    try {
      const [f, inspected, ps, nsv] = await Promise.all([
        askFacts(),
        podman([
          'container',
          'inspect',
          '--format',
          '{{.State.Pid}} {{.State.ConmonPid}} {{.NetworkSettings.SandboxKey}}',
          id,
        ]),
        processes(),
        podman(['exec', id, 'netserver', '-V']),
      ]);
      if (inspected.exitCode !== 0) throw new Error(`podman inspect: ${why(inspected)}`);
      const [pid = '', conmonPid = '', netns = ''] = inspected.stdout.trim().split(' ');
      const slirp = usesSlirp4netns(network) ? slirp4netnsFor(ps, netns) : [];
      if (usesSlirp4netns(network) && slirp.length !== 1)
        throw new Error(`expected one slirp4netns process for ${netns}, found ${slirp.length}`);
      const asPid = (p: string) => (/^[1-9]\d*$/.test(p) ? Number(p) : null);
      // rootlessport's child dials netserver from inside the container's network namespace.
      const forwarders =
        network === 'slirp4netns-rootlesskit'
          ? rootlessportFor(
              ps
                .filter((p) => p.user === user && /(^|\/)rootlessport-child(\s|$)/.test(p.args))
                .map((p) => ({ pid: p.pid, ppid: parentOf(p.pid), netns: netnsOf(p.pid) })),
              netnsOf(asPid(pid) ?? 0),
            )
          : [];
      if (network === 'slirp4netns-rootlesskit' && forwarders.length !== 2)
        throw new Error(`expected rootlessport and its child for the container, found PIDs [${forwarders.join(' ')}]`);
      const cgroupOf = (p: string) => {
        const text = asPid(p) === null ? null : readOrNull(`/proc/${p}/cgroup`);
        return text === null ? null : accountingCgroup(text);
      };
      const netserverCgroup = cgroupOf(pid);
      scope = cpuScopeOf({
        netserver: asPid(pid),
        conmon: asPid(conmonPid),
        network: [...slirp.map((s) => s.pid), ...forwarders],
        netserverCgroup,
        conmonCgroup: cgroupOf(conmonPid),
      });
      const host = (f.info.host ?? {}) as Record<string, unknown>;
      const security = (host.security ?? {}) as Record<string, unknown>;
      const store = (f.info.store ?? {}) as Record<string, unknown>;
      const netserver = (nsv.exitCode === 0 && nsv.stdout.trim().replace(/^Netperf version\s*/, '')) || 'unknown';
      const { control, data } = ctx.ports;
      const a = ctx.serverAddress;
      description = {
        name: envName,
        summary: `Podman ${f.podman} rootless as ${user}, ${usesSlirp4netns(network) ? `slirp4netns ${f.slirp4netns}` : network} network (ports by ${portForwarder(network)}), ${runtime}, image ${image.id.slice(0, 12)}, netserver ${netserver}`,
        details: {
          podman: f.podman,
          rootless: String(security.rootless ?? 'unknown'),
          user,
          network: networkArgument(network),
          slirp4netns: f.slirp4netns,
          ociRuntime: runtime,
          cgroupManager: String(host.cgroupManager ?? 'unknown'),
          cgroups: `${String(host.cgroupVersion ?? '?')}; CPU accounted in ${scope.cgroups.length > 0 ? `the container's cgroup ${scope.cgroups[0]}` : `no cgroup of the container's own (netserver's is ${netserverCgroup ?? 'unknown'}): by PID`}`,
          cpuScope: `cgroups [${scope.cgroups.join(' ')}], PIDs [${scope.pids.join(' ')}]`,
          storageDriver: String(store.graphDriverName ?? 'unknown'),
          image: image.tag,
          imageId: image.id,
          imageBuild: 'offline-scratch (podman import)',
          imageBuildSeconds: image.importSeconds === null ? 'cached' : image.importSeconds.toFixed(1),
          netserver,
          ports: `${a}:${control}->${control}/tcp, ${a}:${data}->${data}/tcp, ${a}:${data}->${data}/udp (forwarded by ${portForwarder(network)})`,
          container: `${name} ${id.slice(0, 12)}`,
          containerPids: `netserver ${pid}, conmon ${conmonPid}${slirp.length > 0 ? `, slirp4netns ${slirp.map((s) => s.pid).join(' ')}` : ''}${forwarders.length > 0 ? `, rootlessport ${forwarders.join(' ')}` : ''}`,
          /** Seconds until `podman run` returned; startupSeconds runs on until netserver answers. */
          containerStartSeconds: containerStartSeconds.toFixed(2),
          portBusyRetries: String(portBusyRetries),
          command: asUser(user, runArgs).join(' '),
          containerCommand: netserverCommand(control).join(' '),
        },
        accelerator: 'none',
        startupSeconds,
      };
    } catch (e) {
      if (e instanceof EnvironmentError) throw e;
      return keepLogsAndFail(`could not describe the running container: ${(e as Error).message}`);
    }
    const found = scope;
    return { endpoint, stop, description, pathPids: () => [...found.pids], cpuScope: () => found };
  }

  async function cleanup(onlyIndex: number | null = null): Promise<string[]> {
    if ((await installedVersion()) === null || process.getuid?.() !== 0) return [];
    const passwd = await runCommand(['getent', 'passwd', user], { timeoutMs: 10_000 });
    if (passwd.exitCode !== 0) return []; // no user: no container of ours can exist
    const filters = [
      '--filter',
      `label=${PROJECT_LABEL}=1`,
      ...(onlyIndex === null ? [] : ['--filter', `label=${TESTBED_LABEL}=${onlyIndex}`]),
    ];
    const ls = await podman([
      'ps',
      '--all',
      ...filters,
      '--format',
      `{{.ID}}\t{{.Names}}\t{{index .Labels "${OWNER_LABEL}"}}`,
    ]);
    if (ls.exitCode !== 0) return [];
    const removed: string[] = [];
    for (const line of ls.stdout.split('\n')) {
      const [id, name, ownerText = ''] = line.split('\t');
      if (!id || !name) continue;
      const owner = parseOwnerLabel(ownerText);
      if (!isLeftBehind(owner, process.pid, (pid) => identityOf(pid)?.startTicks ?? null)) {
        removed.push(`(kept ${user}'s container ${name}: its run, PID ${owner!.pid}, is still going)`);
        continue;
      }
      await removeContainer(id);
      removed.push(`${user}'s container ${name} (${id})`);
    }
    // Removing a container ends its slirp4netns. One whose `podman run` was killed before the
    // container existed has no container to go with: the user's slirp4netns with no container's
    // network namespace. Only a full cleanup looks for those (they carry no testbed index).
    if (onlyIndex === null) {
      const keys = await podman(['ps', '--all', '--format', '{{.ID}}']);
      const netnsPaths: string[] = [];
      for (const cid of keys.stdout.split('\n').filter((l) => l.trim() !== '')) {
        const k = await podman(['container', 'inspect', '--format', '{{.NetworkSettings.SandboxKey}}', cid.trim()]);
        if (k.exitCode === 0 && k.stdout.trim() !== '') netnsPaths.push(k.stdout.trim());
      }
      if (keys.exitCode === 0) {
        for (const p of containerProcesses(await processes(), user)) {
          if (!/(^|\/)slirp4netns\s/.test(p.args)) continue;
          if (netnsPaths.some((n) => slirp4netnsFor([p], n).length > 0)) continue;
          try {
            process.kill(p.pid, 'SIGKILL');
          } catch {
            continue; // it ended while we looked
          }
          // SIGKILL is delivered, not yet done: what cleanup says it removed is gone when it returns.
          await waitUntil(`slirp4netns PID ${p.pid} to end`, async () => !isLive(p.pid), {
            timeoutMs: PROCESS_END_TIMEOUT_MS,
            intervalMs: 50,
          });
          removed.push(`${user}'s slirp4netns PID ${p.pid} (its container is gone)`);
        }
      }
    }
    return removed;
  }

  return { name: envName, title: options.title ?? 'Podman (rootless)', available, start, cleanup };
}

export const podmanRootlessEnvironment: EnvironmentDriver = createPodmanEnvironment();
