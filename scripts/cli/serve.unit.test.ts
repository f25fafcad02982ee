// virtnet serve refuses bad arguments before starting anything (the serving itself is exercised
// end to end by actions/chained.system.test.ts through the start-environment action).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../actions/lib/core/proc.ts';

const CLI = join(import.meta.dirname, '..', 'virtnet.ts');
const serve = (...args: string[]) => runCommand([process.execPath, CLI, 'serve', ...args], { timeoutMs: 30_000 });

describe('virtnet serve arguments', () => {
  it.each([
    [[], 'virtnet serve: --env is required: the one environment to serve'],
    [['--env', 'native'], 'virtnet serve: --endpoint-file is required: where to write the endpoint once ready'],
    [
      ['--env', 'vmware', '--endpoint-file', '/tmp/x.json'],
      'virtnet serve: unknown environment "vmware": expected one of',
    ],
    [
      ['--env', 'native', '--endpoint-file', '/tmp/x.json', '--index', '99'],
      'virtnet serve: --index: 99 is out of range: expected 0 to 63',
    ],
    [
      ['--env', 'native', '--endpoint-file', '/tmp/x.json', '--accel', 'hvf'],
      'virtnet serve: --accel: expected auto, kvm or tcg, got "hvf"',
    ],
    [
      ['--env', 'native', '--endpoint-file', '/tmp/x.json', '--hold-timeout', '0'],
      'virtnet serve: --hold-timeout: 0 is out of range: expected 1 to 1440',
    ],
  ])('%j', async (args, message) => {
    const r = await serve(...args);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});
