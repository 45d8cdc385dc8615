import { strict as assert } from "node:assert";
import { createServer, type AddressInfo } from "node:net";
import { test } from "node:test";
import { context, fakeSystem, testConfig } from "./fake-system.js";
import { apiPortCheck, mqttPortCheck, natsPortCheck } from "./ports.js";
import { realSystem, type ListenResult } from "./system.js";

const taken = (code: string): ListenResult => ({ code, message: `listen ${code}` });

test("api-port ok: free (the listener was tried on config api.host:port)", async () => {
  const tried: string[] = [];
  const sys = fakeSystem({ tryListen: (host, port) => { tried.push(`${host}:${port}`); return Promise.resolve("free"); } });
  const f = await apiPortCheck.run(context(sys));
  assert.deepEqual(f, { status: "ok", message: "127.0.0.1:8777 is free" });
  assert.deepEqual(tried, ["127.0.0.1:8777"]);
});

test("api-port fail: in use → stop the other process or set api.port / --api-port", async () => {
  const f = await apiPortCheck.run(context(fakeSystem({ tryListen: () => Promise.resolve(taken("EADDRINUSE")) })));
  assert.equal(f.status, "fail");
  assert.equal(f.message, "127.0.0.1:8777 is in use");
  assert.match(f.fix ?? "", /stop the other process .* or set api\.port \/ --api-port$/);
});

test("api-port ok: in use by a running adaos-edge that answers /health/ready", async () => {
  const asked: string[] = [];
  const body = JSON.stringify({ ok: true, adaos: { version: "0.1.0", role: "hub", node_id: "pi" } });
  const sys = fakeSystem({
    tryListen: () => Promise.resolve(taken("EADDRINUSE")),
    httpGet: (url) => { asked.push(url); return Promise.resolve({ status: 200, body }); },
  });
  const f = await apiPortCheck.run(context(sys));
  assert.deepEqual(f, { status: "ok", message: "127.0.0.1:8777 is served by a running adaos-edge (hub pi, version 0.1.0)" });
  assert.deepEqual(asked, ["http://127.0.0.1:8777/health/ready"]);
  const other = await apiPortCheck.run(context(fakeSystem({ tryListen: () => Promise.resolve(taken("EADDRINUSE")), httpGet: () => Promise.resolve({ status: 200, body: "<html>" }) })));
  assert.equal(other.status, "fail", "another HTTP server is not an agent");
});

test("api-port fail: privileged port and foreign address, each with its fix; port 0 is ok without listening", async () => {
  const acc = await apiPortCheck.run(context(fakeSystem({ tryListen: () => Promise.resolve(taken("EACCES")) })));
  assert.equal(acc.status, "fail");
  assert.match(acc.fix ?? "", /CAP_NET_BIND_SERVICE/);
  const na = await apiPortCheck.run(context(fakeSystem({ tryListen: () => Promise.resolve(taken("EADDRNOTAVAIL")) })));
  assert.equal(na.status, "fail");
  assert.match(na.message, /not one of this machine's/);
  assert.match(na.fix ?? "", /api\.host \/ --api-host/);
  const zero = { ...testConfig(), api: { ...testConfig().api, port: 0 } };
  const f = await apiPortCheck.run(context(fakeSystem({ tryListen: () => Promise.reject(new Error("must not listen")) }), zero));
  assert.equal(f.status, "ok");
});

test("mqtt-port / nats-port: free is ok, taken is a warning (needed by later features)", async () => {
  for (const [check, port, service] of [[mqttPortCheck, 1883, "mosquitto"], [natsPortCheck, 4222, "nats-server"]] as const) {
    const ok = await check.run(context(fakeSystem()));
    assert.equal(ok.status, "ok");
    const busy = await check.run(context(fakeSystem({ tryListen: (_h, p) => Promise.resolve(p === port ? taken("EADDRINUSE") : "free") })));
    assert.equal(busy.status, "warn");
    assert.match(busy.message, new RegExp(`^0\\.0\\.0\\.0:${port} \\(\\w+\\) is in use — needed by later features$`));
    assert.match(busy.fix ?? "", new RegExp(`systemctl disable --now ${service}`));
  }
});

test("real tryListen: EADDRINUSE while a server holds the port, free once it is closed", async () => {
  // Not an HTTP server: the /health/ready probe gets its connection reset.
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const sys = realSystem();
  const config = { ...testConfig(), api: { ...testConfig().api, port } };
  try {
    const busy = await sys.tryListen("127.0.0.1", port);
    assert.equal(busy === "free" ? busy : busy.code, "EADDRINUSE");
    const f = await apiPortCheck.run(context(sys, config));
    assert.deepEqual([f.status, f.message], ["fail", `127.0.0.1:${port} is in use`]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  assert.equal(await sys.tryListen("127.0.0.1", port), "free");
  assert.equal((await apiPortCheck.run(context(sys, config))).status, "ok");
});
