// Interface names ↔ indexes (if_nametoindex(3) / if_indextoname(3)) in the caller's network namespace.
import { sys } from './errno.js'
import { native } from './native.js'

/** The index of a named interface; throws LVSD_SYS_CALL (details.code 'ENODEV') when there is none. */
export function ifNameToIndex(name: string): number {
  return sys(() => native().ifNameToIndex(name))
}

/** The name of an interface index; throws LVSD_SYS_CALL (details.code 'ENXIO') when there is none. */
export function ifIndexToName(index: number): string {
  return sys(() => native().ifIndexToName(index))
}

/** Like ifNameToIndex, but undefined instead of an error for a missing interface. */
export function tryIfNameToIndex(name: string): number | undefined {
  try {
    return ifNameToIndex(name)
  } catch {
    return undefined
  }
}
