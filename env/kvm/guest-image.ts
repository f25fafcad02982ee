// The Linux guest, built by the project from distribution packages: Debian's own kernel
// (linux-image-*-amd64, the version apt offers), its virtio-net and e1000 modules, and an initramfs
// holding busybox-static, the host's netserver with the libraries it links, and an /init that
// brings eth0 up and execs netserver. It boots straight to a running netserver in seconds.
// The result is cached under a key hashed from every input, so it is rebuilt only when one changes.

import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mustRun, runCommand } from '../../actions/lib/core/proc.ts';
import { hasPvhNote, payloadCandidates } from './vmlinux.ts';

/** The modules eth0 needs, as the package ships them (it has no modules.dep). */
export const VIRTIO_NET_MODULES = [
  'virtio_ring',
  'virtio',
  'virtio_pci_legacy_dev',
  'virtio_pci_modern_dev',
  'virtio_pci',
  'failover',
  'net_failover',
  'virtio_net',
] as const;

/**
 * Every NIC driver the guest carries: virtio-net on PCI, virtio_mmio for the microvm machine
 * (Debian's kernel builds it as a module, CONFIG_VIRTIO_MMIO=m, which binds the devices QEMU lists
 * in ACPI), and e1000 for the kvm-e1000 variant (CONFIG_E1000=m, no dependencies). /init loads them
 * all; only the transport and driver of the NIC QEMU gave the guest find a device, which becomes eth0.
 */
export const GUEST_NIC_MODULES = [...VIRTIO_NET_MODULES, 'virtio_mmio', 'e1000'] as const;

/** Where in the kernel package each module lives. */
const MODULE_PATHS: Record<string, string> = {
  virtio_ring: 'kernel/drivers/virtio/virtio_ring.ko',
  virtio: 'kernel/drivers/virtio/virtio.ko',
  virtio_pci_legacy_dev: 'kernel/drivers/virtio/virtio_pci_legacy_dev.ko',
  virtio_pci_modern_dev: 'kernel/drivers/virtio/virtio_pci_modern_dev.ko',
  virtio_pci: 'kernel/drivers/virtio/virtio_pci.ko',
  failover: 'kernel/net/core/failover.ko',
  net_failover: 'kernel/drivers/net/net_failover.ko',
  virtio_net: 'kernel/drivers/net/virtio_net.ko',
  virtio_mmio: 'kernel/drivers/virtio/virtio_mmio.ko',
  e1000: 'kernel/drivers/net/ethernet/intel/e1000/e1000.ko',
};

/**
 * The line /init prints once eth0 is configured, just before it execs netserver; it ends with the
 * driver that runs eth0 (`nic driver virtio_net`, `nic driver e1000`), as the guest's kernel says.
 */
export const GUEST_READY_MARKER = 'VIRTNET-GUEST-READY';

/** Bump when the layout of the initramfs or the /init script changes in a way the key misses. */
const BUILDER_VERSION = 5;

/**
 * Load order from each module's `depends=` field (modinfo -F depends): every module after the
 * modules it depends on, ties kept in the given order. Throws on a cycle or an unknown dependency.
 */
export function moduleLoadOrder(depends: Record<string, string[]>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`module dependency cycle: ${[...path, name].join(' -> ')}`);
    const deps = depends[name];
    if (deps === undefined)
      throw new Error(
        `module ${name} (needed by ${path.at(-1) ?? 'the guest'}) is not among the modules taken from the kernel package`,
      );
    state.set(name, 'visiting');
    for (const d of deps) visit(d, [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(depends)) visit(name, []);
  return order;
}

export function parseModinfoDepends(output: string): string[] {
  return output
    .trim()
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** The libraries `ldd` lists with a path (the vDSO has none and needs none). */
export function parseLdd(output: string): string[] {
  const paths: string[] = [];
  for (const line of output.split('\n')) {
    const arrow = /=>\s*(\/\S+)\s+\(/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(/.exec(line);
    const p = arrow?.[1] ?? bare?.[1];
    if (p && !paths.includes(p)) paths.push(p);
  }
  return paths;
}

/** The package `linux-image-amd64` depends on: the kernel apt offers now. */
export function kernelPackageFromDepends(output: string): string {
  const m = /Depends:\s*(linux-image-[0-9][^\s]*-amd64)\b/.exec(output);
  if (!m)
    throw new Error(
      `could not find the kernel package that linux-image-amd64 depends on in apt-cache output: ${output.trim().slice(0, 200) || '(empty)'}`,
    );
  return m[1]!;
}

export function parseAptShow(output: string): { version: string; sha256: string } {
  const version = /^Version:\s*(\S+)/m.exec(output)?.[1];
  const sha256 = /^SHA256:\s*([0-9a-f]{64})/m.exec(output)?.[1];
  if (!version || !sha256)
    throw new Error(`apt-cache show printed no Version/SHA256: ${output.trim().slice(0, 200) || '(empty)'}`);
  return { version, sha256 };
}

/**
 * /init: mount proc/sys/dev, load the NIC modules in order, configure eth0 from the kernel
 * command line (virtnet.ip=ADDR/LEN virtnet.gw=ADDR, or virtnet.ip=dhcp), print the ready marker
 * on the console, exec netserver in the foreground on virtnet.port.
 */
export function initScript(modules: readonly string[]): string {
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in ${modules.join(' ')}; do
  insmod /lib/modules/$m.ko || echo "virtnet-init: insmod $m failed"
done
IP=; GW=; PORT=12865
for w in $(cat /proc/cmdline); do
  case "$w" in
    virtnet.ip=*) IP="\${w#virtnet.ip=}" ;;
    virtnet.gw=*) GW="\${w#virtnet.gw=}" ;;
    virtnet.port=*) PORT="\${w#virtnet.port=}" ;;
  esac
done
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
[ -e /sys/class/net/eth0 ] || echo "virtnet-init: no eth0 after loading the NIC modules"
ip link set lo up
ip link set eth0 up
if [ "$IP" = dhcp ]; then
  udhcpc -i eth0 -n -q -t 20 -T 1 -s /etc/udhcpc.script || echo "virtnet-init: no DHCP lease"
else
  ip addr add "$IP" dev eth0
  [ -n "$GW" ] && ip route add default via "$GW"
fi
echo "${GUEST_READY_MARKER} $(ip -4 -o addr show dev eth0 | awk '{print $4}') netserver port $PORT nic driver $(basename "$(readlink /sys/class/net/eth0/device/driver)") at $(readlink -f /sys/class/net/eth0/device)"
exec /usr/bin/netserver -D -f -4 -p "$PORT"
`;
}

/** Applies a udhcpc lease (busybox's udhcpc calls this with the lease in its environment). */
export const UDHCPC_SCRIPT = `#!/bin/busybox sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/\${mask:-24}" dev "$interface"
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    ;;
esac
exit 0
`;

/** The driver of the guest's eth0 named on its ready line, or null. */
export function nicDriverFromConsole(console: string): string | null {
  return new RegExp(`${GUEST_READY_MARKER} .* nic driver (\\S+)`).exec(console)?.[1] ?? null;
}

/**
 * Where eth0's device sits in the guest's sysfs, as its ready line says, or null: on PCI
 * (`/sys/devices/pci0000:00/...`) or on a virtio-mmio platform device QEMU's ACPI announced
 * (`/sys/devices/platform/LNRO0005:00/virtio0` on the microvm machine).
 */
export function nicDeviceFromConsole(console: string): string | null {
  return new RegExp(`${GUEST_READY_MARKER} .* nic driver \\S+ at (/sys/\\S+)`).exec(console)?.[1] ?? null;
}

/** The kernel command line for a guest at `address` (ADDR/LEN or dhcp) behind `gateway`. */
export function kernelCommandLine(options: {
  address: string;
  gateway: string | null;
  port: number;
  quiet: boolean;
}): string {
  const words = [
    'console=ttyS0',
    'panic=-1',
    'oops=panic',
    ...(options.quiet ? ['quiet'] : []),
    `virtnet.ip=${options.address}`,
    `virtnet.port=${options.port}`,
  ];
  if (options.gateway) words.push(`virtnet.gw=${options.gateway}`);
  return words.join(' ');
}

export interface GuestImageInputs {
  builderVersion: number;
  kernelPackage: string;
  kernelPackageVersion: string;
  kernelPackageSha256: string;
  modules: readonly string[];
  /** Host file -> sha256: busybox, netserver and its libraries. */
  hostFiles: Record<string, string>;
  initScript: string;
  udhcpcScript: string;
}

export function guestImageKey(inputs: GuestImageInputs): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
}

export interface GuestImage {
  dir: string;
  key: string;
  kernel: string;
  initrd: string;
  kernelPackage: string;
  kernelPackageVersion: string;
  /** The kernel release (uname -r) of the guest. */
  kernelVersion: string;
  /** How QEMU enters the kernel: the bzImage, or the vmlinux inside it through its PVH note. */
  kernelBoot: string;
  /** sha256 over the kernel QEMU boots, then the initramfs. */
  imageSha256: string;
  modules: string[];
  netserver: string;
  builtAt: string;
  buildSeconds: number;
}

export interface BuiltGuest {
  image: GuestImage;
  /** False when the cache already held this image. */
  built: boolean;
  /** Seconds this call took (checking inputs, and building when not cached). */
  seconds: number;
}

export function defaultCacheDir(): string {
  return process.env.VIRTNET_CACHE_DIR ?? fileURLToPath(new URL('../../.cache', import.meta.url));
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function which(name: string): Promise<string> {
  const r = await runCommand(['sh', '-c', `command -v ${name}`], { timeoutMs: 5000 });
  const path = r.stdout.trim();
  if (r.exitCode !== 0 || !path.startsWith('/'))
    throw new Error(`${name} is not installed (install-system-packages.sh installs it)`);
  return path;
}

async function hostInputs(): Promise<{
  busybox: string;
  netserver: string;
  libraries: string[];
  hashes: Record<string, string>;
}> {
  const busybox = await which('busybox');
  const netserver = await which('netserver');
  const ldd = await mustRun(['ldd', netserver]);
  const libraries = parseLdd(ldd.stdout);
  const hashes: Record<string, string> = {};
  for (const f of [busybox, netserver, ...libraries]) hashes[f] = sha256File(f);
  return { busybox, netserver, libraries, hashes };
}

/** What apt's package lists say only changes with them: their state stamps the remembered answer. */
function aptListsStamp(): string {
  const stamps: string[] = [];
  for (const p of ['/var/lib/apt/lists', '/var/cache/apt/pkgcache.bin']) {
    try {
      stamps.push(`${p}:${statSync(p).mtimeMs}`);
    } catch {
      stamps.push(`${p}:none`);
    }
  }
  return stamps.join(' ');
}

async function kernelPackageAptOffers(): Promise<string> {
  const ask = () => runCommand(['apt-cache', 'depends', 'linux-image-amd64'], { timeoutMs: 60_000 });
  let depends = await ask();
  if (!/Depends:\s*linux-image-/.test(depends.stdout)) {
    // A fresh machine may have no package lists yet: fetch them once and ask again.
    await mustRun(['apt-get', 'update', '-qq'], { timeoutMs: 300_000 });
    depends = await ask();
  }
  return kernelPackageFromDepends(depends.stdout + depends.stderr);
}

/** The kernel package apt offers now: two apt-cache calls (seconds each), remembered until apt's lists change. */
async function resolveKernelPackage(root: string): Promise<{ name: string; version: string; sha256: string }> {
  const override = process.env.VIRTNET_KVM_KERNEL_PACKAGE ?? null;
  const memo = join(root, 'apt-resolution.json');
  const stamp = aptListsStamp();
  try {
    const m = JSON.parse(readFileSync(memo, 'utf8')) as {
      stamp: string;
      override: string | null;
      name: string;
      version: string;
      sha256: string;
    };
    if (m.stamp === stamp && m.override === override) return { name: m.name, version: m.version, sha256: m.sha256 };
  } catch {
    // not remembered yet
  }
  const name = override ?? (await kernelPackageAptOffers());
  const shown = await mustRun(['apt-cache', 'show', '--no-all-versions', name]);
  const resolved = { name, ...parseAptShow(shown.stdout) };
  mkdirSync(root, { recursive: true });
  writeFileSync(memo, JSON.stringify({ stamp, override, ...resolved }));
  return resolved;
}

/** Builds the guest into `cacheDir/kvm-guest/<key>`, or returns the cached one. */
export async function ensureGuestImage(
  options: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<BuiltGuest> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  const root = join(options.cacheDir ?? defaultCacheDir(), 'kvm-guest');
  const pkg = await resolveKernelPackage(root);
  const host = await hostInputs();
  // The module order needs the modules; the modules' list (not their order) is the key's input.
  const inputs: GuestImageInputs = {
    builderVersion: BUILDER_VERSION,
    kernelPackage: pkg.name,
    kernelPackageVersion: pkg.version,
    kernelPackageSha256: pkg.sha256,
    modules: GUEST_NIC_MODULES,
    hostFiles: host.hashes,
    initScript: initScript(['@']),
    udhcpcScript: UDHCPC_SCRIPT,
  };
  const key = guestImageKey(inputs);
  const dir = join(root, key);
  const meta = join(dir, 'image.json');
  if (existsSync(meta)) {
    const image = JSON.parse(readFileSync(meta, 'utf8')) as GuestImage;
    if (existsSync(image.kernel) && existsSync(image.initrd))
      return { image, built: false, seconds: (performance.now() - t0) / 1000 };
  }
  log(`kvm guest: building ${key} from ${pkg.name} ${pkg.version}`);
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const deb = await downloadPackage(join(root, 'debs'), pkg);
    const extracted = join(work, 'pkg');
    mkdirSync(extracted);
    // Only the kernel and the NIC modules: extracting the whole package costs more than the rest of the build.
    const wanted = ['./boot/vmlinuz-*', ...GUEST_NIC_MODULES.map((m) => `./lib/modules/*/${MODULE_PATHS[m]}`)];
    await mustRun(
      [
        'sh',
        '-c',
        `dpkg-deb --fsys-tarfile "$0" | tar -x -C "$1" --wildcards ${wanted.map((w) => `'${w}'`).join(' ')}`,
        deb,
        extracted,
      ],
      { timeoutMs: 300_000 },
    );
    const vmlinuz = (await mustRun(['sh', '-c', 'ls "$0"/boot/vmlinuz-*', extracted])).stdout.trim().split('\n')[0]!;
    const kernelVersion = basename(vmlinuz).replace(/^vmlinuz-/, '');
    const moduleDir = join(extracted, 'lib/modules', kernelVersion);
    const depends: Record<string, string[]> = {};
    for (const m of GUEST_NIC_MODULES) {
      depends[m] = parseModinfoDepends(
        (await mustRun(['modinfo', '-F', 'depends', join(moduleDir, MODULE_PATHS[m]!)])).stdout,
      );
    }
    const order = moduleLoadOrder(depends);

    const rootfs = join(work, 'rootfs');
    for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'usr/bin', 'lib/modules'])
      mkdirSync(join(rootfs, d), { recursive: true });
    copyFileSync(host.busybox, join(rootfs, 'bin/busybox'));
    copyFileSync(host.netserver, join(rootfs, 'usr/bin/netserver'));
    for (const lib of host.libraries) {
      mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(rootfs, lib)); // copyFileSync follows symlinks: the real library lands under the linked name
    }
    for (const m of order) copyFileSync(join(moduleDir, MODULE_PATHS[m]!), join(rootfs, 'lib/modules', `${m}.ko`));
    writeFileSync(join(rootfs, 'init'), initScript(order));
    writeFileSync(join(rootfs, 'etc/udhcpc.script'), UDHCPC_SCRIPT);
    for (const f of ['init', 'etc/udhcpc.script', 'bin/busybox', 'usr/bin/netserver'])
      chmodSync(join(rootfs, f), 0o755);
    symlinkSync('busybox', join(rootfs, 'bin/sh'));
    const initrd = join(work, 'initrd.gz');
    // Fixed owners and times and a sorted list: the same inputs give the same bytes.
    await mustRun(
      [
        'sh',
        '-c',
        'cd "$0" && find . -exec touch -h -d @0 {} + && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet | gzip -9n > "$1"',
        rootfs,
        initrd,
      ],
      { timeoutMs: 120_000 },
    );
    const kernel = join(work, basename(vmlinuz));
    renameSync(vmlinuz, kernel);
    const pvh = await extractPvhVmlinux(kernel, join(work, 'vmlinux'));
    const bootKernel = pvh ?? kernel;
    rmSync(extracted, { recursive: true, force: true });
    rmSync(rootfs, { recursive: true, force: true });
    const imageSha256 = createHash('sha256')
      .update(readFileSync(bootKernel))
      .update(readFileSync(initrd))
      .digest('hex');
    const image: GuestImage = {
      dir,
      key,
      kernel: join(dir, basename(bootKernel)),
      kernelBoot: pvh ? 'PVH entry of the uncompressed vmlinux (from the bzImage)' : 'bzImage',
      initrd: join(dir, 'initrd.gz'),
      kernelPackage: pkg.name,
      kernelPackageVersion: pkg.version,
      kernelVersion,
      imageSha256,
      modules: order,
      netserver: host.netserver,
      builtAt: new Date().toISOString(),
      buildSeconds: (performance.now() - t0) / 1000,
    };
    writeFileSync(join(work, 'image.json'), `${JSON.stringify({ ...image, inputs }, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    // Images of older inputs are never booted again; the downloaded packages stay for a rebuild.
    for (const other of readdirSync(root)) {
      if (/^[0-9a-f]{16}$/.test(other) && other !== key) rmSync(join(root, other), { recursive: true, force: true });
    }
    log(
      `kvm guest: built ${key} in ${image.buildSeconds.toFixed(1)} s (kernel ${kernelVersion}, image sha256 ${imageSha256.slice(0, 12)})`,
    );
    return { image, built: true, seconds: (performance.now() - t0) / 1000 };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The uncompressed vmlinux inside a bzImage, kept when it has a PVH entry note, else null (the
 * bzImage is booted then). Tries each compressed payload found, earliest first.
 */
async function extractPvhVmlinux(bzImage: string, out: string): Promise<string | null> {
  for (const candidate of payloadCandidates(readFileSync(bzImage))) {
    // The payload is followed by the rest of the image: the tool then complains of trailing data
    // after writing the whole kernel, so its exit status is not the test; the ELF header is.
    await runCommand(
      [
        'sh',
        '-c',
        `tail -c +${candidate.offset + 1} "$0" | ${candidate.command.join(' ')} > "$1" 2>/dev/null`,
        bzImage,
        out,
      ],
      { timeoutMs: 120_000 },
    );
    if (existsSync(out) && hasPvhNote(readFileSync(out))) return out;
  }
  rmSync(out, { force: true });
  return null;
}

/** The kernel package, downloaded once and checked against apt's SHA256. */
async function downloadPackage(
  debDir: string,
  pkg: { name: string; version: string; sha256: string },
): Promise<string> {
  mkdirSync(debDir, { recursive: true });
  const file = join(debDir, `${pkg.name}_${pkg.version.replace(/:/g, '%3a')}_amd64.deb`);
  if (existsSync(file) && sha256File(file) === pkg.sha256) return file;
  // apt drops privileges to _apt for downloads when it can write the folder; let it.
  chmodSync(debDir, 0o777);
  const r = await runCommand(['apt-get', 'download', '-q', `${pkg.name}=${pkg.version}`], {
    timeoutMs: 600_000,
    cwd: debDir,
  });
  if (r.exitCode !== 0 || !existsSync(file)) {
    throw new Error(
      `could not download ${pkg.name} ${pkg.version} with apt-get download (is Debian's package mirror reachable?): ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`,
    );
  }
  const got = sha256File(file);
  if (got !== pkg.sha256) {
    rmSync(file, { force: true });
    throw new Error(`${file}: sha256 ${got} differs from apt's ${pkg.sha256}`);
  }
  return file;
}
