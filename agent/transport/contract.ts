/**
 * The one contract every transport adapter passes (model: aedes-persistence abstract.js). An
 * adapter's test file calls transportContract() with a factory for a fresh real broker per test;
 * differences between adapters are declared capabilities, checked here, never silent.
 */
import { strict as assert } from "node:assert";
import { suite, test, type TestContext } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { TransportClosedError, NoRespondersError, PayloadTooLargeError, SubjectInvalidError, TimeoutError } from "../core/errors.js";
import { silentLogger } from "../core/logger.js";
import { MetricsRegistry } from "../core/metrics.js";
import { collector, contractCatalog, DELIVERY_TIMEOUT_MS, echo, echoReply, nextStatus, nOf, ping } from "./contract-support.js";
import type { InvalidReason, TransportOptions } from "./ingress.js";
import type { Transport, TransportCapabilities, TransportName } from "./transport.js";

/** After the last expected delivery, how long to keep listening for one that must not come. */
const SETTLE_MS = 150;
/** A short request timeout: the broker answers on loopback in well under a millisecond. */
const SHORT_TIMEOUT_MS = 300;
/** Down is noticed at once (the socket closes); up after the client's reconnect wait plus jitter. */
const LINK_CHANGE_MS = 10_000;

export interface ContractBroker {
  /** A transport (not connected) to this broker, or to an address where nothing listens; closed after the test. */
  create(options: TransportOptions, target?: "broker" | "nowhere"): Transport;
  /** Publish raw bytes with a plain protocol client (not our adapter); resolves when the broker has them. */
  rawPublish(subject: string, bytes: Uint8Array): Promise<void>;
  /** Stop the broker abruptly (every connection drops), and start it again on the same address. */
  kill(): Promise<void>;
  start(): Promise<void>;
}

export interface TransportContract {
  readonly name: TransportName;
  readonly capabilities: TransportCapabilities;
  /** A fresh broker for one test, stopped after it. */
  broker(t: TestContext): Promise<ContractBroker>;
}

export function transportContract(c: TransportContract): void {
  const options = (extra: Partial<TransportOptions> = {}): TransportOptions => ({
    catalog: contractCatalog(), logger: silentLogger(), metrics: new MetricsRegistry(), ...extra,
  });
  const client = async (b: ContractBroker, extra: Partial<TransportOptions> = {}): Promise<Transport> => {
    const tr = b.create(options(extra));
    await tr.connect(AbortSignal.timeout(DELIVERY_TIMEOUT_MS));
    return tr;
  };

  suite(`transport contract: ${c.name}`, () => {
    test("declares its capabilities", async (t) => {
      const tr = await client(await c.broker(t));
      assert.equal(tr.name, c.name);
      assert.deepEqual(tr.capabilities, c.capabilities);
    });

    test("an envelope published on an exact subject arrives unchanged, reserved characters included", async (t) => {
      const b = await c.broker(t);
      const [sub, pub] = [await client(b), await client(b)];
      const got = collector();
      for (const subject of ["contract.exact", "contract.a/b+c#d$e%25f.x"]) await sub.subscribe(subject, got.handler);
      const env = ping(1);
      pub.publish("contract.exact", env);
      pub.publish("contract.a/b+c#d$e%25f.x", ping(2));
      await got.until(1);
      await got.until(2);
      assert.deepEqual(got.messages[0]?.envelope, env);
      assert.deepEqual(got.messages.map((m) => [m.subject, m.replyTo]), [["contract.exact", undefined], ["contract.a/b+c#d$e%25f.x", undefined]]);
    });

    test("`*` matches exactly one token and `>` one or more (never zero)", async (t) => {
      const b = await c.broker(t);
      const [sub, pub] = [await client(b), await client(b)];
      const [star, rest, exact] = [collector(), collector(), collector()];
      await sub.subscribe("w.*.x", star.handler);
      await sub.subscribe("w.>", rest.handler);
      await sub.subscribe("w.a.x", exact.handler);
      const subjects = ["w.a.x", "w.b.x", "w.a.y", "w.a.x.z", "w", "w.end"];
      subjects.forEach((s, i) => pub.publish(s, ping(i)));
      await rest.until(5);
      await delay(SETTLE_MS);
      assert.deepEqual(star.messages.map((m) => m.subject), ["w.a.x", "w.b.x"]);
      assert.deepEqual(rest.messages.map((m) => m.subject), ["w.a.x", "w.b.x", "w.a.y", "w.a.x.z", "w.end"]);
      assert.deepEqual(exact.messages.map((m) => m.subject), ["w.a.x"]);
    });

    test("broadcast: every subscriber on every connection gets every message, in order", async (t) => {
      const b = await c.broker(t);
      const subs = [await client(b), await client(b), await client(b)];
      const pub = await client(b);
      const got = subs.map(() => collector());
      for (const [i, s] of subs.entries()) await s.subscribe("fan.out", (got[i] ?? collector()).handler);
      for (let n = 0; n < 20; n++) pub.publish("fan.out", ping(n));
      for (const g of got) await g.until(19);
      for (const g of got) assert.deepEqual(g.ns(), Array.from({ length: 20 }, (_, n) => n));
    });

    test("queue group of 2: each message goes to exactly one member and both get some", async (t) => {
      const b = await c.broker(t);
      const [m1, m2, observer, pub] = [await client(b), await client(b), await client(b), await client(b)];
      const [g1, g2, all] = [collector(), collector(), collector()];
      await m1.subscribe("jobs.*", g1.handler, { queue: "workers" });
      await m2.subscribe("jobs.*", g2.handler, { queue: "workers" });
      await observer.subscribe("jobs.*", all.handler);
      const N = 200;
      for (let n = 0; n < N; n++) pub.publish("jobs.run", ping(n));
      await all.until(N - 1);
      const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
      while (g1.messages.length + g2.messages.length < N && Date.now() < deadline) await delay(20);
      await delay(SETTLE_MS);
      const taken = [...g1.ns(), ...g2.ns()].sort((a, z) => a - z);
      assert.deepEqual(taken, Array.from({ length: N }, (_, n) => n), "every message exactly once across the group");
      assert.ok(g1.messages.length > 0 && g2.messages.length > 0, `both members got some (${g1.messages.length}/${g2.messages.length})`);
      assert.equal(all.messages.length, N, "a plain subscriber still gets everything");
    });

    test("request/reply: the reply is caused by the request (causation and correlation)", async (t) => {
      const b = await c.broker(t);
      const [responder, requester] = [await client(b), await client(b)];
      await responder.subscribe("svc.echo", (m) => responder.reply(m, echoReply(m.envelope)));
      const requests = Array.from({ length: 20 }, (_, n) => echo(n));
      const replies = await Promise.all(requests.map((r) => requester.request("svc.echo", r, { timeoutMs: DELIVERY_TIMEOUT_MS })));
      replies.forEach((reply, i) => {
        const request = requests[i];
        assert.ok(request !== undefined);
        assert.equal(reply.envelope.kind, "reply");
        assert.equal(reply.envelope.causation_id, request.id);
        assert.equal(reply.envelope.correlation_id, request.correlation_id);
        assert.equal(nOf(reply), i);
      });
    });

    test("a request nobody answers times out; with no subscriber at all it fails as the transport declares", async (t) => {
      const b = await c.broker(t);
      const [silent, requester] = [await client(b), await client(b)];
      await silent.subscribe("svc.silent", () => undefined);
      const t0 = Date.now();
      await assert.rejects(requester.request("svc.silent", echo(1), { timeoutMs: SHORT_TIMEOUT_MS }), TimeoutError);
      assert.ok(Date.now() - t0 >= SHORT_TIMEOUT_MS - 20, "not before its timeout");
      const expected = c.capabilities.noResponders ? NoRespondersError : TimeoutError;
      await assert.rejects(requester.request("svc.nobody", echo(2), { timeoutMs: SHORT_TIMEOUT_MS }), expected);
    });

    test("unsubscribe stops delivery at once; another subscription on the same pattern keeps receiving", async (t) => {
      const b = await c.broker(t);
      const [sub, pub] = [await client(b), await client(b)];
      const [first, second] = [collector(), collector()];
      const s1 = await sub.subscribe("u.a", first.handler);
      await sub.subscribe("u.a", second.handler);
      pub.publish("u.a", ping(1));
      await first.until(1);
      s1.unsubscribe();
      s1.unsubscribe();
      pub.publish("u.a", ping(2));
      await second.until(2);
      await delay(SETTLE_MS);
      assert.deepEqual(first.ns(), [1]);
      assert.deepEqual(second.ns(), [1, 2]);
    });

    test("bad input from a plain client is refused, counted and reported, and the link keeps working", async (t) => {
      const b = await c.broker(t);
      const metrics = new MetricsRegistry();
      const reported: InvalidReason[] = [];
      const sub = await client(b, { metrics, maxMessageBytes: 2048, onInvalid: (_raw, reason) => void reported.push(reason) });
      const got = collector();
      await sub.subscribe("bad.in", got.handler);
      const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
      const raw: [InvalidReason, Uint8Array][] = [
        ["malformed_json", Buffer.from("{not json")],
        ["invalid_envelope", json({ hello: "world" })],
        ["unknown_event", json({ ...ping(1), event_name: "test.nope" })],
        ["invalid_payload", json({ ...ping(1), payload: { n: "one" } })],
        ["too_large", json(ping(1, "x".repeat(4096)))],
      ];
      for (const [, bytes] of raw) await b.rawPublish("bad.in", bytes);
      await b.rawPublish("bad.in", json(ping(7)));
      await got.until(7);
      assert.deepEqual(got.ns(), [7], "only the valid envelope reached the handler");
      assert.deepEqual(reported, raw.map(([r]) => r));
      const counter = metrics.counter("adaos_transport_invalid_total", "");
      for (const [reason] of raw) assert.equal(counter.get({ transport: c.name, reason }), 1, reason);
    });

    test("a throwing or rejecting handler is contained and counted", async (t) => {
      const b = await c.broker(t);
      const metrics = new MetricsRegistry();
      const sub = await client(b, { metrics });
      const got = collector();
      await sub.subscribe("h.x", (m) => {
        got.handler(m);
        if (nOf(m) === 0) throw new Error("boom");
        if (nOf(m) === 1) return Promise.reject(new Error("async boom"));
      });
      for (let n = 0; n < 3; n++) sub.publish("h.x", ping(n));
      await got.until(2);
      await delay(SETTLE_MS);
      assert.equal(metrics.counter("adaos_transport_handler_errors_total", "").get({ transport: c.name }), 2);
    });

    test("publish and subscribe refuse bad subjects and oversized envelopes", async (t) => {
      const tr = await client(await c.broker(t), { maxMessageBytes: 2048 });
      assert.throws(() => tr.publish("a..b", ping(1)), SubjectInvalidError);
      assert.throws(() => tr.publish("a.*", ping(1)), SubjectInvalidError);
      await assert.rejects(tr.subscribe("a.>.b", () => undefined), SubjectInvalidError);
      await assert.rejects(tr.subscribe("a.b", () => undefined, { queue: "has space" }), SubjectInvalidError);
      assert.throws(() => tr.publish("a.b", ping(1, "x".repeat(4096))), PayloadTooLargeError);
    });

    test("status: up, down when the broker dies, up again when it is back, and subscriptions survive", async (t) => {
      const b = await c.broker(t);
      const tr = await client(b);
      const it = tr.status()[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done === true) assert.fail("the status iteration ended at once");
      assert.equal(first.value.type, "up", "a new reader first gets the current state");
      const got = collector();
      await tr.subscribe("st.x", got.handler);
      await b.kill();
      await nextStatus(it, "down", LINK_CHANGE_MS);
      await b.start();
      await nextStatus(it, "up", LINK_CHANGE_MS);
      // Resubscription may land just after "up": publish until one comes through.
      for (let n = 0; got.messages.length === 0; n++) {
        assert.ok(n < DELIVERY_TIMEOUT_MS / 100, "a message published after reconnecting is delivered");
        tr.publish("st.x", ping(n));
        await delay(100);
      }
      await it.return?.();
    });

    test("close() fails pending requests, ends status with closed, resolves closed() and refuses more work", async (t) => {
      const b = await c.broker(t);
      const [silent, tr] = [await client(b), await client(b)];
      await silent.subscribe("svc.silent", () => undefined);
      const pending = assert.rejects(tr.request("svc.silent", echo(1), { timeoutMs: DELIVERY_TIMEOUT_MS }), TransportClosedError);
      const statuses = (async () => {
        const seen: string[] = [];
        for await (const s of tr.status()) seen.push(s.type);
        return seen;
      })();
      await delay(50);
      await tr.close();
      await pending;
      assert.equal(await tr.closed(), undefined);
      assert.deepEqual(await statuses, ["up", "closed"]);
      assert.throws(() => tr.publish("a.b", ping(1)), TransportClosedError);
      await tr.close();
    });

    test("connect() keeps trying until its signal aborts, then rejects and closes", async (t) => {
      const tr = (await c.broker(t)).create(options(), "nowhere");
      const t0 = Date.now();
      await assert.rejects(tr.connect(AbortSignal.timeout(SHORT_TIMEOUT_MS)), { name: "TimeoutError" });
      assert.ok(Date.now() - t0 < 2 * DELIVERY_TIMEOUT_MS / 5, "promptly after the abort");
      assert.equal(await tr.closed(), undefined);
    });

    test("close() during connect() makes connect() reject with E_BUS_CLOSED", async (t) => {
      const tr = (await c.broker(t)).create(options(), "nowhere");
      const connecting = tr.connect(AbortSignal.timeout(DELIVERY_TIMEOUT_MS));
      const refused = assert.rejects(connecting, TransportClosedError);
      await delay(SHORT_TIMEOUT_MS);
      const t0 = Date.now();
      await tr.close();
      await refused;
      assert.ok(Date.now() - t0 < DELIVERY_TIMEOUT_MS / 5, "promptly");
      assert.equal(await tr.closed(), undefined);
    });
  });
}
