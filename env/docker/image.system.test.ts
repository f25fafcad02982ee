// How the image is chosen and built, against a scripted docker CLI (the real builds run in
// docker.system.test.ts). The offline inputs are the host's real netserver and its libraries.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandResult } from '../../actions/lib/core/proc.ts';
import { type DockerRunner, findOnPath, prepareImage, REGISTRY_DOCKERFILE, registryBaseImage } from './image.ts';
import { requireService, skipNote } from '../../actions/lib/testing/requirements.ts';

const cacheDir = mkdtempSync(join(tmpdir(), 'virtnet-image-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

interface Script {
  /** Tags that exist before anything is built. */
  present?: string[];
  pull?: 'ok' | 'fail';
  registryBuild?: 'ok' | 'fail';
  /** The daemon's registry mirrors (`docker info`); none by default, as on a stock daemon. */
  mirrors?: string[];
}

function fakeDocker(script: Script): { docker: DockerRunner; calls: string[][] } {
  const images = new Set(script.present ?? []);
  const calls: string[][] = [];
  const result = (exitCode: number, stdout = '', stderr = ''): CommandResult => ({
    argv: [],
    exitCode,
    signal: null,
    stdout,
    stderr,
    timedOut: false,
    aborted: false,
    durationMs: 1,
  });
  const docker: DockerRunner = async (args) => {
    calls.push(args);
    const [cmd] = args;
    if (cmd === 'image') {
      const tag = args[args.length - 1]!;
      return images.has(tag) ? result(0, `sha256:${'ab'.repeat(32)}\n`) : result(1, '', `Error: No such image: ${tag}`);
    }
    if (cmd === 'info') return result(0, `${JSON.stringify(script.mirrors ?? null)}\n`);
    if (cmd === 'pull')
      return script.pull === 'ok'
        ? result(0, 'ok\n')
        : result(1, '', 'Error response from daemon: lookup failed: no such host');
    if (cmd === 'build') {
      const tag = args[args.indexOf('--tag') + 1]!;
      const fromRegistry = args[args.length - 1] === '-';
      if (fromRegistry && script.registryBuild !== 'ok') return result(1, '', 'E: Unable to locate package netperf');
      images.add(tag);
      return result(0, 'Successfully built\n');
    }
    return result(1, '', `unexpected docker ${args.join(' ')}`);
  };
  return { docker, calls };
}

const missing = requireService('netserver', findOnPath('netserver') === null ? 'netserver is not on the PATH' : null);

describe.skipIf(missing !== null)(
  `image choice and build (scripted docker; needs the host netserver)${skipNote(missing)}`,
  () => {
    const log = () => {};

    it('auto on a daemon without a configured registry: asks no registry at all, builds offline from scratch', async () => {
      const { docker, calls } = fakeDocker({ pull: 'ok', registryBuild: 'ok' });
      const img = await prepareImage(docker, { setting: 'auto', cacheDir, log });
      expect(img.build).toBe('offline-scratch');
      expect(img.reason).toMatch(/^auto: no registry mirror is configured for the daemon, so no registry is asked/);
      expect(calls.map((c) => c[0])).toEqual(['image', 'info', 'image', 'build', 'image']);
    });

    it('auto with a configured mirror that does not answer: probes with a pull, then builds offline from scratch', async () => {
      const { docker, calls } = fakeDocker({ pull: 'fail', mirrors: ['https://mirror.invalid'] });
      const img = await prepareImage(docker, { setting: 'auto', cacheDir, log });
      expect(img.build).toBe('offline-scratch');
      expect(img.cached).toBe(false);
      expect(img.tag).toMatch(/^virtnet-netserver:offline-[0-9a-f]{16}$/);
      expect(img.reason).toBe(
        `auto: the daemon could not pull ${registryBaseImage(readFileSync(REGISTRY_DOCKERFILE, 'utf8'))} (no registry reachable)`,
      );
      expect(calls.map((c) => c[0])).toEqual(['image', 'info', 'pull', 'image', 'build', 'image']);
      const context = calls.find((c) => c[0] === 'build')!.at(-1)!;
      expect(readFileSync(join(context, 'Dockerfile'), 'utf8')).toMatch(/^FROM scratch$/m);
      expect(readFileSync(join(context, 'rootfs', findOnPath('netserver')!))).toEqual(
        readFileSync(findOnPath('netserver')!),
      );
    });

    it('reuses an image whose inputs have not changed', async () => {
      const first = fakeDocker({ pull: 'fail' });
      const built = await prepareImage(first.docker, { setting: 'offline', cacheDir, log });
      const second = fakeDocker({ present: [built.tag] });
      const again = await prepareImage(second.docker, { setting: 'offline', cacheDir, log });
      expect(again).toMatchObject({ tag: built.tag, cached: true, buildSeconds: null });
      expect(second.calls.some((c) => c[0] === 'build')).toBe(false);
    });

    it('auto with a configured registry that answers builds from the Dockerfile, sent on stdin', async () => {
      const { docker, calls } = fakeDocker({ pull: 'ok', registryBuild: 'ok', mirrors: ['https://mirror.invalid'] });
      const img = await prepareImage(docker, { setting: 'auto', cacheDir, log });
      expect(img.build).toBe('registry-dockerfile');
      expect(img.tag).toMatch(/^virtnet-netserver:registry-/);
      expect(calls.find((c) => c[0] === 'build')!.at(-1)).toBe('-');
    });

    it('auto falls back to offline when the registry build fails, and says so', async () => {
      const { docker } = fakeDocker({ pull: 'ok', registryBuild: 'fail', mirrors: ['https://mirror.invalid'] });
      const img = await prepareImage(docker, { setting: 'auto', cacheDir, log });
      expect(img.build).toBe('offline-scratch');
      expect(img.reason).toMatch(/the registry build failed .*so built offline/);
    });

    it('a forced registry build that fails is an error, not a silent fallback', async () => {
      const { docker } = fakeDocker({ pull: 'ok', registryBuild: 'fail' });
      await expect(prepareImage(docker, { setting: 'registry', cacheDir, log })).rejects.toThrow(
        /docker build from env\/docker\/Dockerfile failed: E: Unable to locate package netperf/,
      );
    });

    it('auto uses an already built registry image without probing', async () => {
      const probe = fakeDocker({ pull: 'ok', registryBuild: 'ok' });
      const built = await prepareImage(probe.docker, { setting: 'registry', cacheDir, log });
      const { docker, calls } = fakeDocker({ present: [built.tag] });
      const img = await prepareImage(docker, { setting: 'auto', cacheDir, log });
      expect(img).toMatchObject({ build: 'registry-dockerfile', cached: true, tag: built.tag });
      expect(calls.some((c) => c[0] === 'pull')).toBe(false);
    });
  },
);
