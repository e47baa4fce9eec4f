// The real server's host as lvsd realserver sees and changes it: sysctls through /proc/sys, links and
// addresses over rtnetlink (no iproute2 or procps needed on the server), in the caller's namespace.
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { LvsdError } from '../errors.js'
import { parsePrefix } from '../net/addr.js'
import { Rtnetlink } from '../net/rtnetlink.js'
import { IFF_UP } from '../net/rtnl-link.js'
import type { Change, HostState } from './plan.js'

const PROC_SYS = '/proc/sys'

export function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(`${PROC_SYS}/${key}`, 'utf8').trim()
  } catch {
    return undefined
  }
}

function writeSysctl(key: string, value: string): void {
  try {
    writeFileSync(`${PROC_SYS}/${key}`, `${value}\n`)
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    throw new LvsdError('LVSD_SYS_CALL', `cannot write ${PROC_SYS}/${key}: ${err.code ?? err.message}`, {
      call: 'write',
      path: `${PROC_SYS}/${key}`,
      code: err.code,
    })
  }
}

export class Host {
  private constructor(private readonly rtnl: Rtnetlink) {}

  static open(): Host {
    return new Host(Rtnetlink.open())
  }

  async observe(keys: string[]): Promise<HostState> {
    const links = await this.rtnl.listLinks()
    const names = new Map(links.map((l) => [l.index, l.name]))
    const addresses = (await this.rtnl.listAddresses()).map((a) => ({
      dev: names.get(a.ifindex) ?? `#${a.ifindex}`,
      addr: a.local ?? a.address,
      prefixLen: a.prefixLen,
    }))
    return {
      sysctls: new Map(keys.map((k) => [k, readSysctl(k)])),
      links: links.map((l) => ({ name: l.name, up: (l.flags & IFF_UP) !== 0 })),
      addresses,
    }
  }

  /** Makes one change (forward) or undoes it (back). Undoing something already gone is not an error. */
  async apply(c: Change, forward: boolean): Promise<void> {
    if (c.kind === 'sysctl') {
      writeSysctl(c.key, forward ? c.to : c.from)
      return
    }
    const index = await this.indexOf(c.dev)
    if (index === undefined) {
      if (forward)
        throw new LvsdError('LVSD_SYS_CALL', `no interface ${c.dev}`, { call: 'if_nametoindex', code: 'ENODEV' })
      return
    }
    if (c.kind === 'link-up') {
      await this.rtnl.setLinkUp(index, forward)
      return
    }
    const prefix = parsePrefix(`${c.address}/${c.prefixLen}`)
    try {
      if (forward)
        await this.rtnl.addAddress({ ifindex: index, prefix, nodad: prefix.addr.family === 6, noPrefixRoute: true })
      else await this.rtnl.deleteAddress({ ifindex: index, prefix })
    } catch (e) {
      const code = (e as LvsdError).details?.code
      if ((forward && code === 'EEXIST') || (!forward && code === 'EADDRNOTAVAIL')) return
      throw e
    }
  }

  close(): void {
    this.rtnl.close()
  }

  private async indexOf(dev: string): Promise<number | undefined> {
    return (await this.rtnl.listLinks()).find((l) => l.name === dev)?.index
  }
}

/** Loads a tunnel module (its fallback device tunl0/ip6tnl0 appears with it); false when that failed. */
export async function loadModule(name: string): Promise<boolean> {
  try {
    await promisify(execFile)('modprobe', [name], { timeout: 30_000 })
    return true
  } catch {
    return false
  }
}
