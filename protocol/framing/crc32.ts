/**
 * CRC-32 of IEEE 802.3 (as zlib, PNG, Ethernet): reflected polynomial 0xEDB88320,
 * initial value and final XOR 0xFFFFFFFF. Hand-written and table-driven (one 1 KiB
 * table, one lookup per byte) on purpose: it is what a firmware port looks like.
 * crc32("123456789") = 0xCBF43926.
 */
const CRC_TABLE: Uint32Array = makeTable();

function makeTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC-32 of `data` as an unsigned 32-bit number. */
export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
