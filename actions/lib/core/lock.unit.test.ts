import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock, LockError } from './lock.ts';
import { processStartTicks } from './liveness.ts';

const dir = mkdtempSync(join(tmpdir(), 'virtnet-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A PID that surely belongs to no process any more: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await once(child, 'exit');
  return child.pid!;
}

describe('testbed and run locks', () => {
  it('is exclusive, names the holder, and is removed on release', () => {
    const path = join(dir, 'a.lock');
    const lock = acquireLock(path, 'testbed 9');
    expect(lock.tookOverFrom).toBeNull();
    expect(readFileSync(path, 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+\\n$`));
    expect(() => acquireLock(path, 'testbed 9')).toThrow(LockError);
    expect(() => acquireLock(path, 'testbed 9')).toThrow(/testbed 9 is in use by this very process/);
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a lock held by another live process, quoting its PID', async () => {
    const path = join(dir, 'b.lock');
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(path, `${holder.pid} ${processStartTicks(holder.pid!)}\n`);
      expect(() => acquireLock(path, 'testbed 10')).toThrow(
        `testbed 10 is in use by another virtnet process (PID ${holder.pid})`,
      );
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    }
    // Now its holder is gone: the lock is taken over and that is said.
    const lock = acquireLock(path, 'testbed 10');
    expect(lock.tookOverFrom).toBe(holder.pid);
    lock.release();
  });

  it('takes over a lock whose PID was reused by an unrelated process', () => {
    const path = join(dir, 'c.lock');
    // Our parent is alive, but it started at another time than the lock says.
    writeFileSync(path, `${process.ppid} 1\n`);
    const lock = acquireLock(path, 'testbed 11');
    expect(lock.tookOverFrom).toBe(process.ppid);
    lock.release();
  });

  it('takes over a stale lock of a dead PID, and a lock left empty or garbled', async () => {
    const path = join(dir, 'd.lock');
    const pid = await deadPid();
    writeFileSync(path, `${pid}\n`);
    const lock = acquireLock(path, 'testbed 12');
    expect(lock.tookOverFrom).toBe(pid);
    lock.release();
    writeFileSync(path, 'garbage');
    const again = acquireLock(path, 'testbed 12');
    expect(again.tookOverFrom).toBeNull();
    again.release();
  });

  it('lets exactly one of many racing processes take a stale lock', async () => {
    const path = join(dir, 'e.lock');
    writeFileSync(path, `${await deadPid()}\n`);
    const script = `import { acquireLock } from ${JSON.stringify(new URL('./lock.ts', import.meta.url).pathname)};
      try { acquireLock(${JSON.stringify(path)}, 'race'); console.log('got'); setTimeout(() => {}, 1500); } catch (e) { console.log('refused'); }`;
    const children = Array.from({ length: 6 }, () => spawn(process.execPath, ['--input-type=module', '-e', script]));
    const outputs = await Promise.all(
      children.map(async (c) => {
        let out = '';
        c.stdout!.on('data', (d) => (out += d));
        await once(c, 'exit');
        return out.trim();
      }),
    );
    expect(outputs.filter((o) => o === 'got')).toHaveLength(1);
    expect(outputs.filter((o) => o === 'refused')).toHaveLength(5);
  });
});
