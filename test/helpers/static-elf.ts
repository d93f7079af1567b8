// Whether a binary can go into an image alone (busybox-static imported with `docker import`): the
// tests' images and the apps benchmark's are built from local files, no registry being reachable.
import { closeSync, openSync, readSync } from 'node:fs';

/** True when the ELF file has no program interpreter, i.e. it needs no libc from the image. */
export function isStaticElf(file: string): boolean {
  const header = Buffer.alloc(64);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) return false; // not a 64-bit ELF
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const entry = Buffer.alloc(4);
    for (let i = 0; i < phnum; i++) {
      readSync(fd, entry, 0, 4, phoff + i * phentsize);
      if (entry.readUInt32LE(0) === 3) return false; // PT_INTERP: dynamically linked
    }
    return true;
  } finally {
    closeSync(fd);
  }
}
