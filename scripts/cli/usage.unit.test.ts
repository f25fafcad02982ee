// The command line's own help: --help on every command, --version, and "did you mean".

import { describe, expect, it } from 'vitest';
import { runCommand } from '../../actions/lib/core/proc.ts';
import { COMMAND_USAGE } from './usage.ts';

const CLI = new URL('../virtnet.ts', import.meta.url).pathname;
const virtnet = (...args: string[]) => runCommand([process.execPath, CLI, ...args], { timeoutMs: 60_000 });

describe('virtnet --help, --version and did you mean', () => {
  it("prints each command's whole usage for --help anywhere among its arguments, and starts nothing", async () => {
    for (const name of Object.keys(COMMAND_USAGE)) {
      const r = await virtnet(name, '--plan', 'nosuch', '--help');
      expect(r.exitCode, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`virtnet ${name}`);
      expect(r.stdout).toContain(COMMAND_USAGE[name]!.options.split('\n')[1]!);
      expect(r.stderr).toBe('');
    }
    const report = await virtnet('report', '-h');
    expect(report.stdout).toContain('--diff A:B');
    expect(report.stdout).toContain('--no-svg');
    const help = await virtnet('help', 'diff');
    expect(help.stdout).toContain('--fail-on-regression');
  });

  it('lists every command and option in the whole usage', async () => {
    const r = await virtnet('--help');
    expect(r.exitCode).toBe(0);
    for (const c of Object.values(COMMAND_USAGE)) for (const line of c.synopsis) expect(r.stdout).toContain(line);
    expect(r.stdout).toContain('--no-svg');
  });

  it('prints its version', async () => {
    const r = await virtnet('--version');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^virtnet \d+\.\d+\.\d+ \(Node\.js \d+\.\d+\.\d+\)\n$/);
  });

  it('suggests the command meant, and names the known ones', async () => {
    const r = await virtnet('reprot', 'runs/x');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(
      /^virtnet: unknown command "reprot" \(did you mean report\?\); expected one of run, testbed, report, cleanup, diff, serve/,
    );
  });
});
