// A hostile DNS reply (a compression bomb): 8,000 one-byte labels at offset 12, then as many answers
// as fit, each a pointer to them, so every name would expand to 16 KB. 65,535 answers claimed. The
// unit tier decodes it; the netns DNS responder sends it to the checker.
export function compressionBomb(id: number): Buffer {
  const b = Buffer.alloc(65_000)
  b.writeUInt16BE(id, 0)
  b.writeUInt16BE(0x8400, 2) // QR, AA, NOERROR
  b.writeUInt16BE(0xffff, 6) // answers claimed; no question
  let off = 12
  for (let i = 0; i < 8000; i++) {
    b[off++] = 1
    b[off++] = 0x61
  }
  b[off++] = 0
  // the label run is the first "answer" name; type A, class IN, ttl 0, rdlength 0
  b.writeUInt16BE(1, off)
  b.writeUInt16BE(1, off + 2)
  off += 10
  while (off + 12 <= b.length) {
    b.writeUInt16BE(0xc00c, off)
    b.writeUInt16BE(1, off + 2)
    b.writeUInt16BE(1, off + 4)
    off += 12
  }
  return b
}
