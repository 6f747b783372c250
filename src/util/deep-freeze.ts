/**
 * Freezes a value and everything reachable from it, so that a configuration or a catalogue
 * entry handed around the program cannot be changed by any holder.
 */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
