// The process layer with real processes: quoting, timeouts, aborts (also before the start), bytes
// and text, input, the PID registry, and the liveness rule.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon, killOrphanedDaemons, mustRun, runCommand, runCommandBytes, waitUntil } from './proc.ts';
import { identityOf, isAlive, processStartTicks } from './liveness.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-proc-'));
const savedStateDir = process.env.VIRTNET_STATE_DIR;
// Our own registry, so nothing here sees (or is seen by) runs outside this test.
process.env.VIRTNET_STATE_DIR = join(work, 'state');
const started: Daemon[] = [];
afterAll(async () => {
  for (const d of started) await d.stop(100);
  if (savedStateDir === undefined) delete process.env.VIRTNET_STATE_DIR;
  else process.env.VIRTNET_STATE_DIR = savedStateDir;
  rmSync(work, { recursive: true, force: true });
});

function daemon(argv: string[], options: { label: string; testbedIndex?: number }): Daemon {
  const d = new Daemon(argv, options);
  started.push(d);
  return d;
}

describe('commands', () => {
  it('passes every word as it is: no shell expansion, quoting or splitting', async () => {
    const words = ['a b', "it's", '"quoted"', '$HOME', '`id`', '*', '', 'line\nbreak', '--flag=x;y|z&'];
    const r = await runCommand(['printf', '%s\\0', ...words], { timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(words);
  });

  it('does not run a command whose signal was aborted before the start', async () => {
    const marker = join(work, 'never-created');
    const controller = new AbortController();
    controller.abort('SIGINT');
    const r = await runCommand(['touch', marker], { timeoutMs: 10_000, signal: controller.signal });
    expect(r).toMatchObject({ exitCode: null, signal: null, aborted: true, timedOut: false, stdout: '' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(existsSync(marker)).toBe(false);
    await expect(mustRun(['touch', marker], { signal: controller.signal })).rejects.toThrow(/aborted/);
    expect(existsSync(marker)).toBe(false);
  });

  it('kills the command with SIGKILL when the signal is aborted while it runs', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort('SIGINT'), 200);
    const t0 = performance.now();
    // trap '' TERM: only SIGKILL ends it (an ignored signal stays ignored across exec).
    const r = await runCommand(['sh', '-c', "trap '' TERM; echo started; exec sleep 30"], {
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    expect(r).toMatchObject({ signal: 'SIGKILL', aborted: true, timedOut: false, exitCode: null });
    expect(r.stdout).toBe('started\n');
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('kills the command with SIGKILL at the timeout and says so', async () => {
    const r = await runCommand(['sh', '-c', "trap '' TERM; exec sleep 30"], { timeoutMs: 300 });
    expect(r).toMatchObject({ signal: 'SIGKILL', timedOut: true, aborted: false });
    expect(r.durationMs).toBeLessThan(10_000);
    // A background process that keeps stdout open does not hold the result back.
    const held = await runCommand(['sh', '-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300 });
    expect(held).toMatchObject({ signal: 'SIGKILL', timedOut: true });
    expect(held.durationMs).toBeLessThan(10_000);
    process.kill(Number(held.stdout.trim()), 'SIGKILL'); // the background sleep: ours, by PID
    await expect(mustRun(['sleep', '30'], { timeoutMs: 300 })).rejects.toThrow(/sleep 30: timed out after 300 ms/);
  });

  it('keeps bytes as bytes, and decodes text whole even when a character is split between two reads', async () => {
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0a, 0xe2, 0x82]);
    const file = join(work, 'binary');
    writeFileSync(file, binary);
    const bytes = await runCommandBytes(['cat', file], { timeoutMs: 10_000 });
    expect(bytes.stdout.equals(binary)).toBe(true);
    // "€" is e2 82 ac: the first byte is written, then after a pause the other two.
    const split =
      'process.stdout.write(Buffer.from([0xe2])); setTimeout(() => process.stdout.write(Buffer.from([0x82, 0xac])), 300)';
    const text = await runCommand([process.execPath, '-e', split], { timeoutMs: 10_000 });
    expect(text.stdout).toBe('€');
  });

  it('feeds input as text or bytes, and gives an empty stdin otherwise', async () => {
    expect((await runCommand(['cat'], { timeoutMs: 10_000, input: 'hello\n' })).stdout).toBe('hello\n');
    const bytes = Buffer.from([0xff, 0x00, 0x01]);
    expect((await runCommandBytes(['cat'], { timeoutMs: 10_000, input: bytes })).stdout.equals(bytes)).toBe(true);
    const r = await runCommand(['cat'], { timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 0, stdout: '', timedOut: false });
  });

  it('runs in the given directory and environment', async () => {
    const r = await runCommand(['sh', '-c', 'pwd; echo "$VIRTNET_PROC_TEST"'], {
      timeoutMs: 10_000,
      cwd: work,
      env: { ...process.env, VIRTNET_PROC_TEST: 'x y' },
    });
    expect(r.stdout).toBe(`${work}\nx y\n`);
  });

  it('runs argv without a shell: words reach the program as given, and no shell adds to its environment', async () => {
    const r = await runCommand(['printf', '%s|', 'a b', '$HOME', '*', '; echo no'], { timeoutMs: 10_000 });
    expect(r.stdout).toBe('a b|$HOME|*|; echo no|');
    // A shell in between (even one that execs the program) exports PWD, SHLVL and _ to it.
    const env = await runCommand(['env'], { timeoutMs: 10_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    expect(env.stdout.trim().split('\n')).toEqual([`PATH=${process.env.PATH ?? '/usr/bin:/bin'}`]);
  });

  it('a daemon whose program does not exist says so in its output', async () => {
    const d = daemon(['virtnet-no-such-daemon'], { label: 'test:missing' });
    await d.waitForExit();
    expect(d.output).toContain('could not start virtnet-no-such-daemon: command not found');
  });

  it('names a missing program, and reports a failing one with its stderr', async () => {
    await expect(runCommand(['virtnet-no-such-program', '-x'], { timeoutMs: 10_000 })).rejects.toThrow(
      'virtnet-no-such-program: command not found',
    );
    const r = await runCommand(['sh', '-c', 'echo oops >&2; exit 3'], { timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 3, stderr: 'oops\n' });
    await expect(mustRun(['sh', '-c', 'echo oops >&2; exit 3'])).rejects.toThrow('exited with 3: oops');
  });
});

describe('daemons and the PID registry', () => {
  const registry = () => join(work, 'state', 'processes');

  it('holds a daemon by its own PID (the shell execs it), registers it and forgets it once stopped', async () => {
    const d = daemon(['sleep', '30'], { label: 'test:sleep', testbedIndex: 5 });
    // The PID is bash's for the moment before it execs the command, then the command's own.
    await waitUntil(
      'sleep in place of the shell',
      async () => readFileSync(`/proc/${d.pid}/cmdline`, 'utf8') === 'sleep\x0030\x00',
      { timeoutMs: 5000, intervalMs: 20 },
    );
    const entry = JSON.parse(readFileSync(join(registry(), `${d.pid}.json`), 'utf8'));
    expect(entry).toMatchObject({
      pid: d.pid,
      label: 'test:sleep',
      argv: ['sleep', '30'],
      owner: process.pid,
      testbedIndex: 5,
      startTicks: processStartTicks(d.pid!),
    });
    await d.stop();
    expect(d.running).toBe(false);
    expect(existsSync(join(registry(), `${d.pid}.json`))).toBe(false);
  });

  it('ends orphaned daemons by label and testbed index only', async () => {
    const one = daemon(['sleep', '30'], { label: 'test:a', testbedIndex: 1 });
    const two = daemon(['sleep', '30'], { label: 'test:a', testbedIndex: 2 });
    const other = daemon(['sleep', '30'], { label: 'other:a', testbedIndex: 1 });
    // The owner is this process, which cleanup may always end (a test, or a run cleaning up after itself).
    const ended = killOrphanedDaemons('test:', 1);
    expect(ended).toEqual([`process ${one.pid} (test:a: sleep 30)`]);
    await one.waitForExit();
    expect(two.running).toBe(true);
    expect(other.running).toBe(true);
    expect(killOrphanedDaemons('test:')).toEqual([`process ${two.pid} (test:a: sleep 30)`]);
    await two.waitForExit();
    expect(other.running).toBe(true);
    await other.stop();
  });

  it('never kills a process that took over a registered PID (start time differs)', async () => {
    const d = daemon(['sleep', '30'], { label: 'test:reused' });
    const file = join(registry(), `${d.pid}.json`);
    const entry = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...entry, startTicks: '1' }));
    expect(killOrphanedDaemons('test:reused')).toEqual([]);
    expect(d.running).toBe(true);
    expect(readdirSync(registry())).not.toContain(`${d.pid}.json`);
    await d.stop();
  });

  it('keeps a daemon whose owner is alive', async () => {
    const d = daemon(['sleep', '30'], { label: 'test:owned' });
    const file = join(registry(), `${d.pid}.json`);
    const entry = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...entry, owner: 1, ownerStartTicks: processStartTicks(1) }));
    expect(killOrphanedDaemons('test:owned')).toEqual([]);
    expect(d.running).toBe(true);
    await d.stop();
  });
});

describe('liveness: PID plus start time', () => {
  it('a live process is alive; with a wrong start time (a reused PID) it is not', () => {
    const own = identityOf(process.pid)!;
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(process.pid, own.startTicks)).toBe(true);
    expect(isAlive(process.pid, String(Number(own.startTicks) + 1))).toBe(false);
    expect(isAlive(0)).toBe(false);
    expect(isAlive(-1)).toBe(false);
    expect(isAlive(Number.NaN)).toBe(false);
  });

  it('a zombie (exited, not yet reaped) is dead', async () => {
    // The background sleep ends first; its parent is then `sleep 30`, which never reaps it.
    const parent = daemon(['sh', '-c', 'sleep 0.1 & echo $!; exec sleep 30'], { label: 'test:zombie-parent' });
    await waitUntil('zombie pid', async () => /^\d+\n/.test(parent.output), { timeoutMs: 5000, intervalMs: 20 });
    const zombie = Number(parent.output.trim());
    await waitUntil('zombie', async () => readFileSync(`/proc/${zombie}/stat`, 'utf8').includes(') Z '), {
      timeoutMs: 5000,
      intervalMs: 50,
    });
    expect(processStartTicks(zombie)).not.toBeNull();
    expect(isAlive(zombie)).toBe(false);
    expect(identityOf(zombie)).toBeNull();
    await parent.stop();
  });

  it('a live process of another user is alive (where kill(pid, 0) fails with EPERM)', async () => {
    const module = new URL('./liveness.ts', import.meta.url).pathname;
    const script = `const m = await import(${JSON.stringify(module)}); let eperm = false; try { process.kill(1, 0) } catch (e) { eperm = e.code === 'EPERM' } console.log(JSON.stringify({ alive: m.isAlive(1), eperm }))`;
    // As root, ask as user nobody about PID 1 (root's); otherwise we are that other user already.
    const asOtherUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const r = await runCommand([...asOtherUser, process.execPath, '--input-type=module', '-e', script], {
      timeoutMs: 20_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ alive: true, eperm: true });
  });
});
