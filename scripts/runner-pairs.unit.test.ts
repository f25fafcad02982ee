// The plan job's reader of the runner pairs, run as the workflow runs it: the committed list
// becomes the measure matrix in $GITHUB_OUTPUT; a bad list stops it with an error naming the file,
// the field and the value.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../actions/lib/core/proc.ts';

const REPO = join(import.meta.dirname, '..');
const temp = mkdtempSync(join(tmpdir(), 'virtnet-pairs-file-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const reader = (file: string, output: string) =>
  runCommand([process.execPath, join(REPO, 'scripts', 'runner-pairs.ts'), file], {
    timeoutMs: 30_000,
    env: { ...process.env, GITHUB_OUTPUT: output },
  });

describe('scripts/runner-pairs.ts', () => {
  it('writes the committed list as the measure matrix and the names to GITHUB_OUTPUT', async () => {
    const output = join(temp, 'output-good');
    writeFileSync(output, '');
    const r = await reader(join(REPO, '.github', 'runner-pairs.json'), output);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const lines = Object.fromEntries(
      readFileSync(output, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const committed = JSON.parse(readFileSync(join(REPO, '.github', 'runner-pairs.json'), 'utf8')).pairs as {
      name: string;
      serverAddress: string;
    }[];
    expect(JSON.parse(lines.matrix!)).toEqual(
      committed.map((p) => ({ name: p.name, 'server-address': p.serverAddress })),
    );
    expect(lines.names).toBe(committed.map((p) => p.name).join(','));
  });

  it('stops on a bad list with one error annotation naming the file, the field and the value, writing no output', async () => {
    const file = join(temp, 'runner-pairs.json');
    writeFileSync(
      file,
      JSON.stringify({
        pairs: [
          { name: 'n3530', serverAddress: '198.18.0.1' },
          { name: 'epyc', serverAddress: '198.18.0.300' },
        ],
      }),
    );
    const output = join(temp, 'output-bad');
    writeFileSync(output, '');
    const r = await reader(file, output);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe(
      `::error::${file}: pairs[1].serverAddress: "198.18.0.300" does not fit: expected a dotted IPv4 address such as 198.18.0.1\n`,
    );
    expect(readFileSync(output, 'utf8')).toBe('');
  });
});
