// The netserver image: built from env/docker/Dockerfile where a registry is configured and answers, or offline
// FROM scratch with the host's netserver and the libraries it links. Tagged by a hash of its
// inputs, so it is built once and reused until an input changes.

import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { type CommandResult, runCommand } from '../../actions/lib/core/proc.ts';
import {
  chooseImageBuild,
  type ImageBuild,
  type ImageBuildSetting,
  type ImageInput,
  imageTag,
  offlineDockerfile,
  parseLdd,
  PROJECT_LABEL,
} from './spec.ts';

export type DockerRunner = (
  args: string[],
  options?: { timeoutMs?: number; input?: string; signal?: AbortSignal },
) => Promise<CommandResult>;

export const REGISTRY_DOCKERFILE = new URL('./Dockerfile', import.meta.url);
/** How long a registry may take to answer a pull before we build offline instead. */
const REGISTRY_PROBE_TIMEOUT_MS = 20_000;

export interface PreparedImage {
  tag: string;
  id: string;
  build: ImageBuild;
  /** True when an image with this tag (these inputs) already existed. */
  cached: boolean;
  /** Seconds the build took; null when cached. */
  buildSeconds: number | null;
  /** Why this build kind was chosen (setting, registry probe result, fallback). */
  reason: string;
}

export interface ImageOptions {
  setting: ImageBuildSetting;
  /** Where the offline build context is assembled (git-ignored). */
  cacheDir: string;
  log: (message: string) => void;
  signal?: AbortSignal;
}

function firstLine(r: CommandResult): string {
  return (
    (r.stderr || r.stdout)
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-1)[0] ?? `exit ${r.exitCode}`
  );
}

/** The id of the image tagged `tag`, or null if there is none. */
export async function imageId(docker: DockerRunner, tag: string): Promise<string | null> {
  const r = await docker(['image', 'inspect', '--format', '{{.Id}}', tag], { timeoutMs: 30_000 });
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

export function findOnPath(program: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir && existsSync(join(dir, program))) return join(dir, program);
  }
  return null;
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The offline image's inputs: the host's netserver and every library ldd lists for it. */
export async function offlineInputs(): Promise<{ netserver: string; files: ImageInput[]; dockerfile: string }> {
  const netserver = findOnPath('netserver');
  if (!netserver)
    throw new Error("the offline docker image needs the host's netserver, which is not installed (package netperf)");
  const ldd = await runCommand(['ldd', netserver], { timeoutMs: 10_000 });
  const libraries = parseLdd(ldd.stdout + ldd.stderr, netserver);
  const files = [netserver, ...libraries].map((path) => ({ path, sha256: sha256File(path) }));
  return { netserver, files, dockerfile: offlineDockerfile(netserver) };
}

/** The offline image's root file system in `rootfs`: each input at its host path, and a /tmp. */
export function writeOfflineRootfs(rootfs: string, files: readonly ImageInput[]): void {
  for (const f of files) {
    const target = join(rootfs, f.path);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(f.path, target); // follows symlinks: the image gets the real file at the linked name
    chmodSync(target, 0o755);
  }
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
}

async function buildOffline(
  docker: DockerRunner,
  options: ImageOptions,
): Promise<{ tag: string; cached: boolean; buildSeconds: number | null }> {
  const { netserver, files, dockerfile } = await offlineInputs();
  const tag = imageTag('offline-scratch', dockerfile, files);
  if ((await imageId(docker, tag)) !== null) return { tag, cached: true, buildSeconds: null };
  const context = join(options.cacheDir, 'offline-context');
  rmSync(context, { recursive: true, force: true });
  writeOfflineRootfs(join(context, 'rootfs'), files);
  writeFileSync(join(context, 'Dockerfile'), dockerfile);
  options.log(
    `docker: building the offline image ${tag} (FROM scratch + ${netserver} + ${files.length - 1} libraries)`,
  );
  const started = performance.now();
  const r = await docker(['build', '--label', `${PROJECT_LABEL}=1`, '--tag', tag, context], {
    timeoutMs: 300_000,
    signal: options.signal,
  });
  if (r.exitCode !== 0) throw new Error(`docker build of the offline image failed: ${firstLine(r)}`);
  return { tag, cached: false, buildSeconds: (performance.now() - started) / 1000 };
}

export function registryBaseImage(dockerfile: string): string {
  const m = /^FROM\s+(\S+)/m.exec(dockerfile);
  if (!m) throw new Error(`${REGISTRY_DOCKERFILE.pathname}: no FROM line`);
  return m[1]!;
}

async function buildFromRegistry(
  docker: DockerRunner,
  options: ImageOptions,
): Promise<{ tag: string; cached: boolean; buildSeconds: number | null }> {
  const dockerfile = readFileSync(REGISTRY_DOCKERFILE, 'utf8');
  const tag = imageTag('registry-dockerfile', dockerfile, []);
  if ((await imageId(docker, tag)) !== null) return { tag, cached: true, buildSeconds: null };
  options.log(
    `docker: building ${tag} from env/docker/Dockerfile (${registryBaseImage(dockerfile)} + netperf from multiverse)`,
  );
  const started = performance.now();
  // The Dockerfile needs no context: it is sent on stdin.
  const r = await docker(['build', '--label', `${PROJECT_LABEL}=1`, '--tag', tag, '-'], {
    timeoutMs: 900_000,
    input: dockerfile,
    signal: options.signal,
  });
  if (r.exitCode !== 0) throw new Error(`docker build from env/docker/Dockerfile failed: ${firstLine(r)}`);
  return { tag, cached: false, buildSeconds: (performance.now() - started) / 1000 };
}

/** Whether the daemon can pull the registry Dockerfile's base image, within a bounded time. */
export async function probeRegistry(
  docker: DockerRunner,
  signal?: AbortSignal,
): Promise<{ reachable: boolean; detail: string; error: string | null }> {
  const base = registryBaseImage(readFileSync(REGISTRY_DOCKERFILE, 'utf8'));
  const r = await docker(['pull', '--quiet', base], { timeoutMs: REGISTRY_PROBE_TIMEOUT_MS, signal });
  if (r.timedOut)
    return {
      reachable: false,
      detail: `pulling ${base} did not finish within ${REGISTRY_PROBE_TIMEOUT_MS / 1000} s`,
      error: 'timed out',
    };
  // The daemon's error names the registry host; it goes to the log, not into the manifest.
  if (r.exitCode !== 0)
    return {
      reachable: false,
      detail: `the daemon could not pull ${base} (no registry reachable)`,
      error: firstLine(r),
    };
  return { reachable: true, detail: `pulled ${base}`, error: null };
}

/**
 * The registry mirrors the daemon is configured with (daemon.json "registry-mirrors"). `auto` asks a
 * registry only where one is configured: a default daemon would otherwise send a DNS lookup and a
 * pull to the public registry on every start, which an offline machine or CI must not do.
 */
export async function configuredMirrors(docker: DockerRunner, signal?: AbortSignal): Promise<string[]> {
  const r = await docker(['info', '--format', '{{json .RegistryConfig.Mirrors}}'], { timeoutMs: 30_000, signal });
  if (r.exitCode !== 0) return [];
  try {
    const mirrors = JSON.parse(r.stdout.trim() || 'null') as unknown;
    return Array.isArray(mirrors) ? mirrors.filter((m): m is string => typeof m === 'string' && m !== '') : [];
  } catch {
    return [];
  }
}

/** Makes sure the image exists (building it if its inputs changed) and says how it was made. */
export async function prepareImage(docker: DockerRunner, options: ImageOptions): Promise<PreparedImage> {
  let reason: string;
  let build: ImageBuild;
  if (options.setting !== 'auto') {
    build = chooseImageBuild(options.setting, null);
    reason = `set to ${options.setting}`;
  } else {
    const registryTag = imageTag('registry-dockerfile', readFileSync(REGISTRY_DOCKERFILE, 'utf8'), []);
    if ((await imageId(docker, registryTag)) !== null) {
      build = 'registry-dockerfile';
      reason = 'auto: the registry image of this Dockerfile is already built';
    } else if ((await configuredMirrors(docker, options.signal)).length === 0) {
      build = 'offline-scratch';
      reason =
        'auto: no registry mirror is configured for the daemon, so no registry is asked (VIRTNET_DOCKER_BUILD=registry pulls from the default one)';
    } else {
      const probe = await probeRegistry(docker, options.signal);
      if (probe.error) options.log(`docker: ${probe.detail}: ${probe.error}; building the offline image`);
      build = chooseImageBuild('auto', probe.reachable);
      reason = `auto: ${probe.detail}`;
    }
  }
  let made: { tag: string; cached: boolean; buildSeconds: number | null };
  if (build === 'registry-dockerfile') {
    try {
      made = await buildFromRegistry(docker, options);
    } catch (e) {
      if (options.setting === 'registry') throw e;
      options.log(`docker: ${(e as Error).message}; building the offline image instead`);
      reason += '; the registry build failed (its error is in the run log), so built offline';
      build = 'offline-scratch';
      made = await buildOffline(docker, options);
    }
  } else {
    made = await buildOffline(docker, options);
  }
  const id = await imageId(docker, made.tag);
  if (id === null) throw new Error(`docker image ${made.tag} is missing right after it was built`);
  return { ...made, id, build, reason };
}
