// A connected pair of Unix stream sockets (socketpair(2)), each end for a net.Socket({ fd }).
import { AF_UNIX, SOCK_STREAM } from './constants.js'
import { sys } from './errno.js'
import { type NativeAddon, native } from './native.js'

export function streamPair(addon: NativeAddon = native()): [number, number] {
  return sys(() => addon.socketPair(AF_UNIX, SOCK_STREAM))
}

/** Closes an end no net.Socket took over (a failure before it could). */
export function closeEnd(fd: number, addon: NativeAddon = native()): void {
  sys(() => addon.close(fd))
}
