// The executor of the OSv build plan, run on a plan of harmless local steps (the real steps need
// OSv's sources): steps in order, the image kept with its metadata, the cache honoured; and the
// plan's own netperf steps for real: the content check of the zip and the wget stand-in that hands
// it to OSv's netperf app.

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkZip, executeOsvBuild } from './build-image.ts';
import {
  type CheckZipStep,
  installedCheck,
  osvBuildPlan,
  type OsvBuildPlan,
  PINNED_NETPERF,
  type RunStep,
} from './build-plan.ts';
import { contentSha256, readZipFiles } from './zip-content.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-osv-build-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The real plan's paths and metadata, with its commands replaced by local ones that leave an "image". */
function localPlan(): OsvBuildPlan {
  const real = osvBuildPlan({
    variant: 'netperf-app',
    sourceDir: join(work, 'src'),
    outDir: join(work, 'images'),
    jobs: 1,
  });
  const trace = join(work, 'trace');
  return {
    ...real,
    steps: [
      { kind: 'run', name: 'first', argv: ['sh', '-c', `echo first >> ${trace}`], cwd: join(work, 'src') },
      {
        kind: 'run',
        name: 'make the image',
        argv: ['sh', '-c', `echo second >> ${trace}; printf 'QFI\\373 pretend image' > build.img`],
        cwd: join(work, 'src'),
      },
      {
        kind: 'run',
        name: 'keep the image',
        argv: ['cp', 'build.img', `${real.image}.partial`],
        cwd: join(work, 'src'),
      },
    ],
  };
}

describe('OSv build executor', () => {
  it('runs the steps in order, keeps the image with its metadata, and reuses it while the key is the same', async () => {
    const plan = localPlan();
    const lines: string[] = [];
    const first = await executeOsvBuild(plan, (l) => lines.push(l));
    expect(first).toMatchObject({ image: plan.image, cached: false });
    expect(readFileSync(join(work, 'trace'), 'utf8')).toBe('first\nsecond\n');
    expect(existsSync(`${plan.image}.partial`)).toBe(false);
    const meta = JSON.parse(readFileSync(plan.metadataFile, 'utf8'));
    expect(meta).toMatchObject({
      kind: 'virtnet-osv-image',
      key: plan.key,
      osvCommit: plan.metadata.osvCommit,
      variant: 'netperf-app',
    });
    expect(meta.imageSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(lines[0]).toBe('[1/3] first: sh -c echo first >> ' + join(work, 'trace'));

    const again = await executeOsvBuild(plan, () => {});
    expect(again).toMatchObject({ image: plan.image, cached: true });
    expect(readFileSync(join(work, 'trace'), 'utf8')).toBe('first\nsecond\n');
  });

  it('refuses a cached image that changed after it was built, or that others could have written, and keeps it as it is', async () => {
    const plan = localPlan();
    await executeOsvBuild(plan, () => {});
    const built = readFileSync(plan.image);
    writeFileSync(plan.image, 'QFI\u00fb a swapped image');
    await expect(executeOsvBuild(plan, () => {})).rejects.toThrow(
      /OSv image cache: .* has sha256 [0-9a-f]{64}, but .* recorded [0-9a-f]{64} when it was built: refusing to use it/,
    );
    writeFileSync(plan.image, built);
    expect((await executeOsvBuild(plan, () => {})).cached).toBe(true);
    chmodSync(plan.metadataFile, 0o666);
    await expect(executeOsvBuild(plan, () => {})).rejects.toThrow(
      /OSv image cache: .*\.virtnet\.json is writable by every user \(mode 0666\): refusing to use it/,
    );
    chmodSync(plan.metadataFile, 0o644);
    chmodSync(dirname(plan.image), 0o777);
    await expect(executeOsvBuild(plan, () => {})).rejects.toThrow(/is writable by every user \(mode 0777\)/);
    chmodSync(dirname(plan.image), 0o755);
    expect(readFileSync(plan.image)).toEqual(built);
  });

  it('stops at the first failing step, naming it, and keeps no image', async () => {
    const plan = {
      ...localPlan(),
      image: join(work, 'images', 'broken.img'),
      metadataFile: join(work, 'images', 'broken.img.virtnet.json'),
    };
    plan.steps = [{ kind: 'run', name: 'fail', argv: ['sh', '-c', 'exit 3'], cwd: work }, ...plan.steps];
    writeFileSync(join(work, 'trace'), '');
    await expect(executeOsvBuild(plan, () => {})).rejects.toThrow('fail: sh -c exit 3: exited with 3');
    expect(existsSync(plan.image)).toBe(false);
    expect(readFileSync(join(work, 'trace'), 'utf8')).toBe('');
  });
});

describe('the package steps', () => {
  it('are skipped when every package is installed, and run when one is missing', async () => {
    const trace = join(work, 'apt-trace');
    const step = (name: string, packages: string[]): RunStep => ({
      kind: 'run',
      name,
      argv: ['sh', '-c', `echo ${name} >> ${trace}`],
      cwd: work,
      skipIfSucceeds: installedCheck(packages),
    });
    const image = join(work, 'images', 'apt.img');
    const plan: OsvBuildPlan = {
      ...localPlan(),
      image,
      metadataFile: `${image}.virtnet.json`,
      steps: [
        step('present', ['dpkg']),
        step('missing', ['dpkg', 'virtnet-no-such-package']),
        { kind: 'run', name: 'image', argv: ['touch', `${image}.partial`], cwd: work },
      ],
    };
    const lines: string[] = [];
    await executeOsvBuild(plan, (l) => lines.push(l));
    expect(readFileSync(trace, 'utf8')).toBe('missing\n');
    expect(lines[0]).toBe('[1/3] present: already done');
  });
});

/** A zip laid out like netperf's (one top folder), made by the real `git archive`. */
function netperfLikeZip(name: string, text: string, prefix: string = PINNED_NETPERF.topFolder): string {
  const repo = join(work, `repo-${name}`);
  mkdirSync(repo, { recursive: true });
  writeFileSync(join(repo, 'configure'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(repo, 'netserver.c'), text);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-C', repo, ...args]);
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'x');
  const zip = join(work, `${name}.zip`);
  writeFileSync(zip, git('archive', '--format=zip', `--prefix=${prefix}`, 'HEAD'));
  return zip;
}

describe('the netperf source check', () => {
  const zip = netperfLikeZip('good', 'int main() { return 0; }\n');
  const hash = contentSha256(readZipFiles(readFileSync(zip), zip));
  const step = (over: Partial<CheckZipStep>): CheckZipStep => ({
    kind: 'check-zip',
    name: 'check the netperf 2.7.0 source',
    file: zip,
    topFolder: PINNED_NETPERF.topFolder,
    contentSha256: hash,
    ...over,
  });

  it('accepts the zip whose content hash is pinned, whatever its compression', () => {
    expect(() => checkZip(step({}))).not.toThrow();
  });

  it('refuses another content, naming the file, the expected and the actual hash', () => {
    const other = netperfLikeZip('other', 'int main() { return 1; }\n');
    const actual = contentSha256(readZipFiles(readFileSync(other), other));
    expect(() => checkZip(step({ file: other }))).toThrow(
      `check the netperf 2.7.0 source: ${other} has content sha256 ${actual}, expected ${hash} (not the pinned source)`,
    );
  });

  it('refuses a missing file, and files outside the folder GET unpacks', () => {
    expect(() => checkZip(step({ file: join(work, 'absent.zip') }))).toThrow(
      `check the netperf 2.7.0 source: ${join(work, 'absent.zip')} does not exist`,
    );
    const flat = netperfLikeZip('flat', 'int main() { return 0; }\n', '');
    expect(() => checkZip(step({ file: flat }))).toThrow(
      `${flat} has files outside netperf-netperf-2.7.0/: configure, netserver.c`,
    );
  });

  it('stops a build before anything else runs when the source is not the pinned one', async () => {
    const real = osvBuildPlan({
      variant: 'netperf-app',
      sourceDir: join(work, 'src'),
      outDir: join(work, 'images-bad'),
      jobs: 1,
      netperfZip: zip,
    });
    const check = real.steps.find((s) => s.kind === 'check-zip')!;
    const after = join(work, 'after-check');
    const plan: OsvBuildPlan = {
      ...real,
      steps: [check, { kind: 'run', name: 'after', argv: ['touch', after], cwd: work }],
    };
    await expect(executeOsvBuild(plan, () => {})).rejects.toThrow(
      `${zip} has content sha256 ${hash}, expected ${PINNED_NETPERF.contentSha256}`,
    );
    expect(existsSync(after)).toBe(false);
    expect(existsSync(real.image)).toBe(false);
  });
});

describe('the wget stand-in', () => {
  const zip = netperfLikeZip('served', 'int served;\n');
  const real = osvBuildPlan({
    variant: 'netperf-app',
    sourceDir: join(work, 'src'),
    outDir: join(work, 'images-wget'),
    jobs: 1,
    netperfZip: zip,
  });
  const build = real.steps.find((s): s is RunStep => s.kind === 'run' && s.name === 'build OSv with the netperf app')!;
  const app = join(work, 'app');

  it('answers the netperf app download with the checked file, in the folder GET empties first, and refuses any other', async () => {
    // What osv-apps' netperf/GET does, run with the build step's environment and PATH.
    const get =
      'rm -rf upstream && mkdir upstream && cd upstream && wget -c "$0" -O netperf-2.7.0.zip && wget -q -O other.zip https://example.org/other.zip';
    const plan: OsvBuildPlan = {
      ...real,
      steps: [
        real.steps.find((s) => s.kind === 'write')!,
        { ...build, argv: ['sh', '-c', get, PINNED_NETPERF.url], cwd: app },
      ],
    };
    await expect(executeOsvBuild(plan, () => {})).rejects.toThrow('build OSv with the netperf app: sh -c');
    expect(readFileSync(join(app, 'upstream', 'netperf-2.7.0.zip')).equals(readFileSync(zip))).toBe(true);
    expect(existsSync(join(app, 'upstream', 'other.zip'))).toBe(false);
  });

  it('says which download it refused and what it serves', () => {
    const write = real.steps.find((s) => s.kind === 'write')!;
    const wget = join(work, 'wget-alone');
    writeFileSync(wget, write.text, { mode: write.mode });
    const r = spawnSync(wget, ['-q', 'https://example.org/other.zip', '-O', join(work, 'x.zip')], {
      env: { ...process.env, ...build.env },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `virtnet OSv build: refused to download https://example.org/other.zip: only ${PINNED_NETPERF.url} (with -O FILE) is served, from the pinned ${zip}\n`,
    );
    expect(existsSync(join(work, 'x.zip'))).toBe(false);
  });
});
