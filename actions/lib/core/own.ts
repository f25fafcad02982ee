// Looking up outside names (environments, sysctls, details keys, run ids) in objects read from JSON:
// only the object's own properties count, so a name such as "constructor", "toString" or
// "hasOwnProperty" finds nothing rather than a member of Object.prototype.

/** obj[key] when obj has key as its own property, else undefined. */
export function own<T>(obj: Readonly<Record<string, T>> | null | undefined, key: string): T | undefined {
  return obj != null && Object.hasOwn(obj, key) ? obj[key] : undefined;
}
