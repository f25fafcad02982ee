// The plan job's check of the environments input (scripts/environments.ts): the names against the
// checkout's variants, built-in and the repository's own, each with its base, and every bad list or
// variants file refused naming it.

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../actions/lib/core/proc.ts';
import { checkoutVariants, VARIANTS_FILES } from '../env/variants.ts';
import { environmentsOutputs } from './environments.ts';

const REPO = join(import.meta.dirname, '..');
const checkout = mkdtempSync(join(tmpdir(), 'virtnet-environments-'));
afterAll(() => rmSync(checkout, { recursive: true, force: true }));
mkdirSync(join(checkout, 'env'));
copyFileSync(join(REPO, VARIANTS_FILES.builtIn), join(checkout, VARIANTS_FILES.builtIn));

describe('the environments check of the plan job', () => {
  it('gives the list, each base and whether OSv is needed, for the four and the built-in variants', () => {
    expect(environmentsOutputs(' native, kvm-microvm ,osv-vhost', checkoutVariants(checkout))).toBe(
      [
        'environments=["native","kvm-microvm","osv-vhost"]',
        'environment-list=native,kvm-microvm,osv-vhost',
        'bases={"native":"native","kvm-microvm":"kvm","osv-vhost":"osv"}',
        'needs-osv=true',
        '',
      ].join('\n'),
    );
    expect(environmentsOutputs('docker', checkoutVariants(checkout))).toContain('needs-osv=false');
  });

  it("knows the repository's own variants (env/user-variants.json) once they are committed", () => {
    const own = join(checkout, VARIANTS_FILES.repository);
    writeFileSync(
      own,
      JSON.stringify({ variants: [{ name: 'fc', base: 'command', command: { start: ['/usr/bin/netserver', '-D'] } }] }),
    );
    try {
      expect(environmentsOutputs('native,fc', checkoutVariants(checkout))).toContain(
        'bases={"native":"native","fc":"command"}',
      );
    } finally {
      rmSync(own);
    }
    expect(() => environmentsOutputs('native,fc', checkoutVariants(checkout))).toThrow(/unknown environment "fc"/);
  });

  it('as the workflow runs it: outputs on stdout, or an ::error:: naming the input or the variants file', async () => {
    const script = join(REPO, 'scripts', 'environments.ts');
    const good = await runCommand([process.execPath, script, 'native,docker-host'], {
      timeoutMs: 30_000,
      env: { ...process.env, GITHUB_OUTPUT: '' },
    });
    expect(good.exitCode, good.stderr).toBe(0);
    expect(good.stdout).toContain('bases={"native":"native","docker-host":"docker"}\n');
    const repeated = await runCommand([process.execPath, script, 'native,native'], {
      timeoutMs: 30_000,
      env: { ...process.env, GITHUB_OUTPUT: '' },
    });
    expect(repeated.exitCode).toBe(1);
    expect(repeated.stdout).toBe('::error::environments: native is listed twice\n');
    const unknown = await runCommand([process.execPath, script, 'vmware'], {
      timeoutMs: 30_000,
      env: { ...process.env, GITHUB_OUTPUT: '' },
    });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stdout).toMatch(/^::error::environments: unknown environment "vmware": expected one of native, /);
  });
});
