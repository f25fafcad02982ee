// What each environment is called in print, and the order the paper shows them in: facts of the
// analysis (its tables name environments, its results come in this order), so the report's charts,
// the diff and the site take them from here.

/** The paper's four environments, in its order; others (variants) follow in name order. */
export const ENVIRONMENT_ORDER = ['native', 'docker', 'kvm', 'osv'] as const;

// A Map, not an object: environment names are outside text, and a name such as "constructor" or
// "toString" must not find a property of Object.prototype.
const TITLE: ReadonlyMap<string, string> = new Map([
  ['native', 'Native Linux'],
  ['docker', 'Docker'],
  ['kvm', 'Linux on QEMU/KVM'],
  ['osv', 'OSv on QEMU/KVM'],
]);

/** A guest that ran under TCG is named so: its numbers are an emulator's, not KVM's. */
const TCG_TITLE: ReadonlyMap<string, string> = new Map([
  ['kvm', 'Linux on QEMU (TCG)'],
  ['osv', 'OSv on QEMU (TCG)'],
]);

/** An environment's name in legends and tables; `accelerator` from its description in the manifest. */
export function environmentTitle(name: string, accelerator?: string): string {
  if (accelerator === 'tcg') return TCG_TITLE.get(name) ?? `${TITLE.get(name) ?? name} (TCG)`;
  return TITLE.get(name) ?? name;
}

/** The names in the paper's order, the others after them in name order. */
export function orderedEnvironments(names: readonly string[]): string[] {
  const known = ENVIRONMENT_ORDER.filter((e) => names.includes(e)) as string[];
  return [...known, ...names.filter((n) => !known.includes(n)).sort()];
}
