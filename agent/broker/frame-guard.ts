/**
 * A bound on the size of the MQTT packets a connection may send, enforced before they are
 * buffered. aedes' parser (mqtt-packet) accepts packets up to the protocol's 256 MiB and buffers a
 * whole packet before anyone sees it, so one client could exhaust a Raspberry Pi's memory. The
 * guard reads the fixed header of every packet as the bytes go to aedes and closes the connection
 * as soon as a header announces more than the limit.
 *
 * aedes reads its socket with `conn.read()` on 'readable' (lib/client.js); the guard wraps that
 * one method of the one socket, so it sees exactly the bytes aedes parses, in order, once.
 */
import type { Socket } from "node:net";

/** [MQTT-2.2.3] Remaining Length takes at most 4 bytes (up to 268,435,455). */
const MAX_LENGTH_BYTES = 4;
const CONTINUATION = 0x80;

/** Walks packet boundaries: fixed header (type byte + Remaining Length), then skips the body. */
export class FrameScanner {
  #skip = 0;
  /** -1: expecting a packet's first byte; 0..3: Remaining Length bytes read so far. */
  #lengthBytes = -1;
  #length = 0;
  /** The Remaining Length that broke the limit (or -1 for a malformed header). */
  refused = 0;

  constructor(private readonly maxRemainingLength: number) {}

  /** Feed the next bytes; false once a packet is over the limit (or its header is malformed). */
  feed(chunk: Uint8Array): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.#lengthBytes < 0) {
        this.#lengthBytes = 0;
        this.#length = 0;
        continue;
      }
      this.#length += (byte & 0x7f) * 128 ** this.#lengthBytes;
      this.#lengthBytes++;
      if ((byte & CONTINUATION) !== 0) {
        if (this.#lengthBytes < MAX_LENGTH_BYTES) continue;
        this.refused = -1;
        return false;
      }
      if (this.#length > this.maxRemainingLength) {
        this.refused = this.#length;
        return false;
      }
      this.#skip = this.#length;
      this.#lengthBytes = -1;
    }
    return true;
  }
}

/**
 * Close `socket` when it sends a packet whose Remaining Length is above `maxRemainingLength`;
 * `onRefused` gets that length (-1: a malformed length). Call before handing the socket to aedes.
 */
export function guardFrames(socket: Socket, maxRemainingLength: number, onRefused: (length: number) => void): void {
  const scanner = new FrameScanner(maxRemainingLength);
  const read = socket.read.bind(socket);
  socket.read = (size?: number): unknown => {
    const chunk: unknown = read(size);
    if (chunk instanceof Uint8Array && !scanner.feed(chunk)) {
      socket.read = () => null;
      socket.destroy();
      onRefused(scanner.refused);
      return null;
    }
    return chunk;
  };
}
