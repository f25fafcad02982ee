// scripts/install-system-packages.sh --list: what each role asks apt for. The client runner gets
// netperf only; Ubuntu is never asked for `chromium` (it has none) nor `chromium-browser` (a snap
// stub); a browser already at the page tests' path is used as it is.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, 'install-system-packages.sh');
const dir = mkdtempSync(join(tmpdir(), 'virtnet-packages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function list(role: string, env: Record<string, string> = {}): string[] {
  return execFileSync('bash', [SCRIPT, '--role', role, '--list'], { encoding: 'utf8', env: { ...process.env, ...env } })
    .trim()
    .split('\n');
}

const ubuntu = join(dir, 'ubuntu-os-release');
writeFileSync(ubuntu, 'ID=ubuntu\nVERSION_ID="24.04"\nID_LIKE=debian\n');
const debian = join(dir, 'debian-os-release');
writeFileSync(debian, 'ID=debian\nVERSION_ID="12"\n');
const noBrowser = join(dir, 'no-such-browser');

describe('install-system-packages.sh --list', () => {
  it('client: netperf and nothing else', () => {
    expect(list('client', { VIRTNET_OS_RELEASE: ubuntu, VIRTNET_BROWSER: noBrowser })).toEqual(['netperf']);
  });

  it('server: the environments, gVisor among them, never a browser', () => {
    const wanted = list('server', { VIRTNET_OS_RELEASE: debian, VIRTNET_BROWSER: noBrowser });
    expect(wanted).toEqual(
      expect.arrayContaining(['netperf', 'iproute2', 'iptables', 'qemu-system-x86', 'busybox-static', 'cpio', 'runsc']),
    );
    expect(list('all', { VIRTNET_OS_RELEASE: ubuntu, VIRTNET_BROWSER: noBrowser })).toContain('runsc');
    expect(list('client', { VIRTNET_OS_RELEASE: debian, VIRTNET_BROWSER: noBrowser })).not.toContain('runsc');
    expect(wanted.some((p) => p.startsWith('chromium'))).toBe(false);
  });

  it('server: rootless Podman with its user namespaces and user-mode network; the client gets none of it', () => {
    const wanted = list('server', { VIRTNET_OS_RELEASE: debian, VIRTNET_BROWSER: noBrowser });
    expect(wanted).toEqual(expect.arrayContaining(['podman', 'slirp4netns', 'uidmap', 'fuse-overlayfs', 'crun']));
    expect(list('client', { VIRTNET_OS_RELEASE: debian, VIRTNET_BROWSER: noBrowser })).not.toContain('podman');
  });

  it("all on Debian without a browser: Debian's chromium", () => {
    expect(list('all', { VIRTNET_OS_RELEASE: debian, VIRTNET_BROWSER: noBrowser })).toContain('chromium');
  });

  it("all: what the testbed's delay line is built with; the pipeline's runners need none of it", () => {
    expect(list('all', { VIRTNET_OS_RELEASE: ubuntu, VIRTNET_BROWSER: noBrowser })).toEqual(
      expect.arrayContaining(['gcc', 'libc6-dev', 'libnetfilter-queue-dev']),
    );
    expect(list('server', { VIRTNET_OS_RELEASE: debian, VIRTNET_BROWSER: noBrowser })).not.toContain(
      'libnetfilter-queue-dev',
    );
  });

  it('all on Ubuntu without a browser: no chromium package at all, and a note saying the page tests skip', () => {
    const out = list('all', { VIRTNET_OS_RELEASE: ubuntu, VIRTNET_BROWSER: noBrowser });
    expect(out.filter((l) => !l.startsWith('#')).some((p) => p.startsWith('chromium'))).toBe(false);
    expect(out.join('\n')).toMatch(
      /# browser: none installed: Ubuntu's chromium-browser only installs a snap; the page tests skip/,
    );
  });

  it('all with a browser already there: nothing more', () => {
    const browser = join(dir, 'chromium');
    writeFileSync(browser, '#!/bin/sh\n', { mode: 0o755 });
    expect(
      list('all', { VIRTNET_OS_RELEASE: debian, VIRTNET_BROWSER: browser }).some((p) => p.startsWith('chromium')),
    ).toBe(false);
  });

  it('refuses an unknown role', () => {
    expect(() => execFileSync('bash', [SCRIPT, '--role', 'tester', '--list'], { stdio: 'pipe' })).toThrow(
      /--role: expected client, server or all, got 'tester'/,
    );
  });
});
