/** The small guards of the broker: the frame scanner and the per-peer log limiter. */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ManualClock } from "../core/clock.js";
import { FrameScanner } from "./frame-guard.js";
import { captureLog } from "./log-capture.js";
import { PEER_LOG_INTERVAL_MS, PeerLog } from "./peer-log.js";

/** An MQTT packet: type byte, Remaining Length as a variable byte integer [MQTT-2.2.3], body. */
function packet(type: number, bodyLength: number): Buffer {
  const length: number[] = [];
  let n = bodyLength;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    length.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([type, ...length]), Buffer.alloc(bodyLength, 0x61)]);
}

test("the frame scanner follows packet boundaries across any chunking and passes packets within the limit", () => {
  const stream = Buffer.concat([packet(0x10, 20), packet(0xc0, 0), packet(0x30, 300), packet(0x32, 1000), packet(0xe0, 0)]);
  for (const size of [1, 2, 3, 7, 64, stream.length]) {
    const scanner = new FrameScanner(1000);
    for (let i = 0; i < stream.length; i += size) assert.equal(scanner.feed(stream.subarray(i, i + size)), true, `chunks of ${size}`);
  }
});

test("the frame scanner refuses a packet whose header announces more than the limit, before its body arrives", () => {
  const scanner = new FrameScanner(1000);
  assert.equal(scanner.feed(packet(0x30, 300)), true);
  const big = packet(0x30, 200_000).subarray(0, 4); // the header only
  assert.equal(scanner.feed(big), false);
  assert.equal(scanner.refused, 200_000);
});

test("the frame scanner refuses a Remaining Length longer than 4 bytes (malformed)", () => {
  const scanner = new FrameScanner(Number.MAX_SAFE_INTEGER);
  assert.equal(scanner.feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), false);
  assert.equal(scanner.refused, -1);
});

test("the peer log writes one line per peer per interval, then reports how many it suppressed", () => {
  const clock = new ManualClock();
  const log = captureLog();
  const peers = new PeerLog(log.logger, clock);
  for (let i = 0; i < 50; i++) peers.warn("addr:10.0.0.9", { i }, "refused");
  peers.warn("addr:10.0.0.7", {}, "refused");
  assert.deepEqual(log.lines.map((l) => l.peer), ["addr:10.0.0.9", "addr:10.0.0.7"], "a second peer is not drowned by the first");
  clock.advance(PEER_LOG_INTERVAL_MS);
  peers.warn("addr:10.0.0.9", {}, "refused");
  assert.equal(log.lines.length, 3);
  assert.equal(log.lines[2]?.suppressed, 49);
});

test("the peer log forgets the least recently logged peer when full", () => {
  const clock = new ManualClock();
  const log = captureLog();
  const peers = new PeerLog(log.logger, clock, PEER_LOG_INTERVAL_MS, 2);
  peers.warn("a", {}, "x");
  peers.warn("b", {}, "x");
  peers.warn("c", {}, "x"); // forgets a
  peers.warn("a", {}, "x"); // logged again: a was forgotten
  peers.warn("c", {}, "x"); // suppressed: c is remembered
  assert.deepEqual(log.lines.map((l) => l.peer), ["a", "b", "c", "a"]);
});
