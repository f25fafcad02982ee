// The dist check: rebuilding every action from its sources gives exactly the committed dist/.
// When this fails, run `npm run build:actions` and commit actions/*/dist.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { actionNames, buildActions, REPO_DIR } from './build-actions.ts';

const out = mkdtempSync(join(tmpdir(), 'virtnet-dist-check-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('dist check', () => {
  it('every action has a committed dist/ identical to a fresh build of its sources', async () => {
    const built = await buildActions(out);
    expect(actionNames()).toHaveLength(5);
    const stale: string[] = [];
    for (const file of built) {
      const committed = (() => {
        try {
          return readFileSync(join(REPO_DIR, 'actions', file));
        } catch {
          return null;
        }
      })();
      if (committed === null || !committed.equals(readFileSync(join(out, file)))) stale.push(`actions/${file}`);
    }
    // Nothing extra lingers in a committed dist/ either.
    for (const name of actionNames()) {
      for (const f of readdirSync(join(REPO_DIR, 'actions', name, 'dist'), {
        recursive: true,
        withFileTypes: true,
      }).filter((e) => !e.isDirectory())) {
        const rel = relative(join(REPO_DIR, 'actions'), join(f.parentPath, f.name));
        if (!built.includes(rel)) stale.push(`actions/${rel} (not built from any source)`);
      }
    }
    expect(stale, 'out of date: run npm run build:actions and commit actions/*/dist').toEqual([]);
  });

  it('builds are deterministic: a second build gives the same bytes', async () => {
    const second = mkdtempSync(join(tmpdir(), 'virtnet-dist-check-'));
    try {
      const files = await buildActions(second);
      for (const f of files) expect(readFileSync(join(second, f)).equals(readFileSync(join(out, f))), f).toBe(true);
    } finally {
      rmSync(second, { recursive: true, force: true });
    }
  });

  it('ESM bundles carry the createRequire banner (CommonJS dependencies call require)', () => {
    const text = readFileSync(join(REPO_DIR, 'actions', 'run-sweep', 'dist', 'index.js'), 'utf8');
    expect(text.split('\n').slice(0, 3).join('\n')).toMatch(
      /createRequire as __virtnetCreateRequire[\s\S]*const require = __virtnetCreateRequire\(import\.meta\.url\)/,
    );
    // No machine path of the build slipped into a bundle.
    expect(text).not.toContain(REPO_DIR);
  });

  it('no bundle contains a command-line entry guard (import.meta.url === argv[1] is true inside a bundle)', () => {
    for (const name of actionNames()) {
      for (const f of readdirSync(join(REPO_DIR, 'actions', name, 'dist')).filter((x) => x.endsWith('.js'))) {
        const text = readFileSync(join(REPO_DIR, 'actions', name, 'dist', f), 'utf8');
        expect(text, `actions/${name}/dist/${f}`).not.toMatch(
          /import\.meta\.url === `file:\/\/\$\{process\.argv\[1\]\}`/,
        );
      }
    }
  });
});
