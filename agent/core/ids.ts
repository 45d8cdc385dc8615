/**
 * UUIDv7 ids (RFC 9562 §5.7): 48-bit Unix ms timestamp + random bits, so ids sort by creation
 * time, which keeps SQLite indexes and logs in order. Within one millisecond a 12-bit counter in
 * rand_a keeps ids from this process strictly increasing.
 */
import { randomFillSync } from "node:crypto";

let lastMs = -1;
let counter = 0;

/** Random bytes are drawn in blocks: one getrandom call per ~200 ids instead of two per id. */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

function randomBytes(n: number): Buffer {
  if (poolOffset + n > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + n));
  poolOffset += n;
  return out;
}

export function uuidv7(nowMs: number = Date.now()): string {
  if (nowMs > lastMs) {
    lastMs = nowMs;
    counter = randomBytes(2).readUInt16BE(0) & 0x1ff; // start low so the 12-bit counter rarely overflows
  } else {
    counter++;
    if (counter > 0xfff) {
      // Counter exhausted within this ms: borrow the next millisecond (monotonicity over wall time).
      lastMs++;
      counter = 0;
    }
  }
  const b = randomBytes(16);
  const ms = lastMs;
  b[0] = Math.floor(ms / 2 ** 40) & 0xff;
  b[1] = Math.floor(ms / 2 ** 32) & 0xff;
  b[2] = (ms >>> 24) & 0xff;
  b[3] = (ms >>> 16) & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | ((counter >>> 8) & 0x0f); // version 7
  b[7] = counter & 0xff;
  b[8] = 0x80 | ((b[8] ?? 0) & 0x3f); // variant 10
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The creation time encoded in a UUIDv7. */
export function uuidv7Time(id: string): number {
  return parseInt(id.replace(/-/g, "").slice(0, 12), 16);
}
