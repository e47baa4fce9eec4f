// Reads the peer channel's shared key (docs/peer.md §Security). The file is opened with O_NOFOLLOW and
// checked with fstat on the open descriptor (no window between check and read): a regular file owned
// by root or by lvsd's own user, neither readable nor writable by others nor writable by its group,
// holding at least 16 bytes. Anything else is LVSD_PEER_KEY with the path and what to fix.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { LvsdError } from '../errors.js'

export const MIN_KEY_BYTES = 16
const MAX_KEY_BYTES = 4096

const refuse = (path: string, why: string, fix: string): never => {
  throw new LvsdError('LVSD_PEER_KEY', `peer.key_file ${path}: ${why}; ${fix}`, { path })
}

/** The key bytes (surrounding whitespace trimmed, so `openssl rand -hex 32 > key` works). */
export function readKeyFile(path: string, ownUid: number = process.geteuid?.() ?? 0): Buffer {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ELOOP') return refuse(path, 'is a symbolic link', 'point key_file at the file itself')
    return refuse(path, `cannot be opened (${code ?? String(e)})`, 'create it with mode 0600')
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) refuse(path, 'is not a regular file', 'point key_file at a file')
    if (st.uid !== 0 && st.uid !== ownUid)
      refuse(path, `is owned by uid ${st.uid}`, `chown it to root or to uid ${ownUid} (lvsd's user)`)
    const mode = st.mode & 0o777
    if (mode & 0o007) refuse(path, `has mode 0${mode.toString(8)}: others may read or write it`, `chmod 600 ${path}`)
    if (mode & 0o020) refuse(path, `has mode 0${mode.toString(8)}: its group may write it`, `chmod 600 ${path}`)
    if (st.size > MAX_KEY_BYTES) refuse(path, `is ${st.size} bytes`, `a key is at most ${MAX_KEY_BYTES} bytes`)
    const buf = Buffer.alloc(MAX_KEY_BYTES + 1)
    let n = 0
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null)
      if (r === 0) break
      n += r
      if (n > MAX_KEY_BYTES) refuse(path, 'is too long', `a key is at most ${MAX_KEY_BYTES} bytes`)
    }
    const key = Buffer.from(buf.subarray(0, n).toString('latin1').trim(), 'latin1')
    if (key.length < MIN_KEY_BYTES)
      refuse(
        path,
        `holds ${key.length} bytes`,
        `a key needs at least ${MIN_KEY_BYTES} (e.g. openssl rand -hex 32 > ${path})`,
      )
    return key
  } finally {
    closeSync(fd)
  }
}
