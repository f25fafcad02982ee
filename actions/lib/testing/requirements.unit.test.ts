import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALLOWED_CI_SKIPS, MissingServiceError, requireService, requireServices, skipNote } from './requirements.ts';

const REPO = resolve(import.meta.dirname, '..', '..', '..');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return ['node_modules', 'dist', '.cache'].includes(e.name) ? [] : testFiles(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('requireService', () => {
  it('a service that is there: nothing to skip, also in CI', () => {
    expect(requireService('dockerd', null, { CI: 'true' })).toBeNull();
  });

  it('missing on a developer machine: skip, saying why', () => {
    expect(requireService('dockerd', 'no docker daemon answers', {})).toBe('dockerd: no docker daemon answers');
    expect(skipNote('dockerd: no docker daemon answers')).toBe(' (skipped: dockerd: no docker daemon answers)');
    expect(skipNote(null)).toBe('');
  });

  it('missing with CI=true: fails, unless listed with its reason', () => {
    for (const ci of ['true', '1']) {
      expect(() => requireService('chromium', '/usr/bin/chromium is missing', { CI: ci })).toThrow(MissingServiceError);
      expect(() => requireService('root', 'needs root', { CI: ci })).toThrow(
        /root is required with CI=true, and it is missing: needs root/,
      );
    }
    expect(ALLOWED_CI_SKIPS['osv-image']).toMatch(/internet/);
    expect(requireService('osv-image', 'no image given', { CI: 'true' })).toBe('osv-image: no image given');
    expect(() =>
      requireServices(
        [
          ['root', null],
          ['netserver', 'not installed'],
        ],
        { CI: 'true' },
      ),
    ).toThrow(/netserver is required/);
    expect(
      requireServices(
        [
          ['root', null],
          ['netserver', 'not installed'],
        ],
        {},
      ),
    ).toBe('netserver: not installed');
  });

  it('every test file that skips does it through requireService', () => {
    const offenders: string[] = [];
    for (const file of ['actions', 'env', 'scripts'].flatMap((d) => testFiles(join(REPO, d)))) {
      const path = relative(REPO, file);
      if (path === 'actions/lib/testing/requirements.unit.test.ts') continue;
      const text = readFileSync(file, 'utf8');
      const skips = /\.(skipIf|runIf)\(|\bit\.skip\(|\bdescribe\.skip\(|\bt\.skip\(/.test(text);
      if (skips && !/from '[./]*(?:actions\/lib\/|lib\/|\.\.\/)*testing\/requirements\.ts'/.test(text))
        offenders.push(path);
    }
    expect(offenders).toEqual([]);
  });

  // The two tiers: `npm run test:unit` runs *.unit.test.ts in parallel, without root and without
  // scripts/prepare.sh; `npm test` runs those and then *.system.test.ts one file at a time.
  it('every test file is named by its tier, and a unit file asks for no service', () => {
    const unnamed: string[] = [];
    const unitAsking: string[] = [];
    for (const file of ['actions', 'env', 'scripts'].flatMap((d) => testFiles(join(REPO, d)))) {
      const path = relative(REPO, file);
      if (!/\.(unit|system)\.test\.ts$/.test(path)) unnamed.push(path);
      if (
        path.endsWith('.unit.test.ts') &&
        path !== 'actions/lib/testing/requirements.unit.test.ts' &&
        /testing\/requirements\.ts'/.test(readFileSync(file, 'utf8'))
      )
        unitAsking.push(path);
    }
    expect(unnamed, 'name each test file *.unit.test.ts (pure, no root) or *.system.test.ts').toEqual([]);
    expect(unitAsking, 'a unit test needs no service: move what needs one to a *.system.test.ts file').toEqual([]);
  });
});
