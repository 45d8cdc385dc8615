/** The topic policy as a table: every rule, its neighbours just outside it, and malformed topics. */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { agentCmd, agentEvt, hubSubject, telemetrySubject } from "../../abi/subjects.js";
import { memberRoutes } from "../bridge/routes.js";
import { PRESENCE_FILTER, presenceTopic } from "../transport/mqtt-groups.js";
import { filterOf, topicOf } from "../transport/names.js";
import { NO_GRANTS, clientIdBelongsTo, compileRules, covers, mayPublish, maySubscribe, type Identity, type Rules } from "./policy.js";

const HUB = "hub-1";
const rules = (identity: Identity, clientId: string): Rules => compileRules(HUB, { identity, clientId });

const hub = rules({ nodeId: HUB, role: "hub", via: "credential", grants: NO_GRANTS }, "hub-1@agent");
const tv = rules({ nodeId: "tv", role: "member", via: "credential", grants: NO_GRANTS }, "tv@a1");
const lamp = rules({ nodeId: "lamp", role: "member", via: "subnet-token", grants: NO_GRANTS }, "lamp");
const sensor = rules(
  {
    nodeId: "sensor",
    role: "client",
    via: "credential",
    grants: { publish: ["sensors.sensor.>", "ada.hub.hub-1.req.sensor"], subscribe: ["sensors.cmd.sensor", "ada.hub.hub-1.broadcast.>"] },
  },
  "sensor@x",
);

type Row = readonly [who: string, r: Rules, action: "pub" | "sub", topic: string, allowed: boolean];

const TABLE: readonly Row[] = [
  // member: publish
  ["member", tv, "pub", "ada/agent/tv/evt", true],
  ["member", tv, "pub", "ada/agent/speaker/evt", false],
  ["member", tv, "pub", "ada/agent/tv/cmd", false],
  ["member", tv, "pub", "ada/agent/speaker/cmd", false],
  ["member", tv, "pub", "ada/agent/tv/evt/extra", false],
  ["member", tv, "pub", "ada/agent/tv%2Fx/evt", false],
  ["member", tv, "pub", "telemetry/tv", true],
  ["member", tv, "pub", "telemetry/tv/heartbeat", true],
  ["member", tv, "pub", "telemetry/tv/probe/display", true],
  ["member", tv, "pub", "telemetry/speaker/heartbeat", false],
  ["member", tv, "pub", "ada/hub/hub-1/req/directory/snapshot", true],
  ["member", tv, "pub", "ada/hub/hub-1/req", false],
  ["member", tv, "pub", "ada/hub/hub-1/broadcast/news", false],
  ["member", tv, "pub", "ada/hub/hub-1/directory", false],
  ["member", tv, "pub", "ada/hub/hub-2/req/x", false],
  ["member", tv, "pub", "ada/root/register", false],
  ["member", tv, "pub", "ui/notify", false],
  ["member", tv, "pub", "_INBOX/hub-1@agent/7", true],
  ["member", tv, "pub", "_INBOX/hub-1/7", true],
  ["member", tv, "pub", "_INBOX/hub-1@agent", false],
  ["member", tv, "pub", "_INBOX/hub-10@agent/7", false],
  ["member", tv, "pub", "_INBOX/hub-1@bad%2Fid/7", false],
  ["member", tv, "pub", "_INBOX/speaker@b2/3", false],
  ["member", tv, "pub", "_INBOX/tv@a1/3", false],
  ["member", tv, "pub", "$adaos/members/tv@a1", true],
  ["member", tv, "pub", "$adaos/members/tv", false],
  ["member", tv, "pub", "$adaos/members/speaker@b2", false],
  ["member", tv, "pub", "$adaos/denied", false],
  ["member", tv, "pub", "$SYS/broker/heartbeat", false],
  ["member", tv, "pub", "dev/50%", false],
  ["member", tv, "pub", "ada//agent", false],
  ["member", tv, "pub", "ada/agent/+/evt", false],
  // member: subscribe
  ["member", tv, "sub", "ada/agent/tv/cmd", true],
  ["member", tv, "sub", "ada/agent/speaker/cmd", false],
  ["member", tv, "sub", "ada/agent/+/cmd", false],
  ["member", tv, "sub", "ada/agent/tv/#", false],
  ["member", tv, "sub", "ada/agent/tv/evt", false],
  ["member", tv, "sub", "_INBOX/tv@a1/#", true],
  ["member", tv, "sub", "_INBOX/tv@a1/5", true],
  ["member", tv, "sub", "_INBOX/tv@a1", true],
  ["member", tv, "sub", "_INBOX/tv/#", false],
  ["member", tv, "sub", "_INBOX/speaker@b2/#", false],
  ["member", tv, "sub", "_INBOX/+/#", false],
  ["member", tv, "sub", "_INBOX/#", false],
  ["member", tv, "sub", "ada/hub/hub-1/broadcast", true],
  ["member", tv, "sub", "ada/hub/hub-1/broadcast/#", true],
  ["member", tv, "sub", "ada/hub/hub-1/broadcast/+/state", true],
  ["member", tv, "sub", "ada/hub/hub-1/#", false],
  ["member", tv, "sub", "ada/hub/hub-1/req/#", false],
  ["member", tv, "sub", "ada/hub/+/broadcast/#", true], // a member that does not know its hub's id yet (bridge/routes.ts)
  ["member", tv, "sub", "ada/hub/+/#", false],
  ["member", tv, "sub", "ada/hub/+/req/#", false],
  ["member", tv, "sub", "telemetry/#", false],
  ["member", tv, "sub", "telemetry/tv/#", false],
  ["member", tv, "sub", "#", false],
  ["member", tv, "sub", "+/+/+/+", false],
  ["member", tv, "sub", "$adaos/members/+", true],
  ["member", tv, "sub", "$adaos/members/#", true],
  ["member", tv, "sub", "$adaos/members/speaker@b2", true],
  ["member", tv, "sub", "$adaos/members/a/b", false],
  ["member", tv, "sub", "$adaos/members/+/#", false],
  ["member", tv, "sub", "$adaos/members/", false],
  ["member", tv, "sub", "$adaos/#", false],
  ["member", tv, "sub", "$adaos/denied", false],
  ["member", tv, "sub", "$SYS/#", false],
  ["member", tv, "sub", "dev/50%", false],
  // a member that came in with the subnet token has the same rules, for its own id
  ["token member", lamp, "pub", "ada/agent/lamp/evt", true],
  ["token member", lamp, "pub", "ada/agent/tv/evt", false],
  ["token member", lamp, "pub", "$adaos/members/lamp", true],
  ["token member", lamp, "sub", "ada/agent/lamp/cmd", true],
  ["token member", lamp, "sub", "ada/agent/tv/cmd", false],
  ["token member", lamp, "sub", "_INBOX/lamp/#", true],
  // third-party client: exactly its grants
  ["client", sensor, "pub", "sensors/sensor/temp", true],
  ["client", sensor, "pub", "sensors/sensor/a/b", true],
  ["client", sensor, "pub", "sensors/sensor", false],
  ["client", sensor, "pub", "sensors/other/temp", false],
  ["client", sensor, "pub", "ada/hub/hub-1/req/sensor", true],
  ["client", sensor, "pub", "ada/hub/hub-1/req/other", false],
  ["client", sensor, "pub", "ada/agent/sensor/evt", false],
  ["client", sensor, "pub", "telemetry/sensor", false],
  ["client", sensor, "pub", "_INBOX/hub-1/1", false],
  ["client", sensor, "pub", "$adaos/members/sensor@x", false],
  ["client", sensor, "sub", "sensors/cmd/sensor", true],
  ["client", sensor, "sub", "sensors/cmd/+", false],
  ["client", sensor, "sub", "sensors/#", false],
  ["client", sensor, "sub", "ada/hub/hub-1/broadcast/#", true],
  ["client", sensor, "sub", "ada/hub/hub-1/broadcast/x/+", true],
  ["client", sensor, "sub", "ada/hub/hub-1/broadcast", false],
  ["client", sensor, "sub", "ada/agent/sensor/cmd", false],
  ["client", sensor, "sub", "_INBOX/sensor@x/#", false],
  ["client", sensor, "sub", "$adaos/members/+", false],
  // the hub's own client: everything but the broker's $SYS
  ["hub", hub, "pub", "ada/agent/tv/cmd", true],
  ["hub", hub, "pub", "_INBOX/tv@a1/1", true],
  ["hub", hub, "pub", "$adaos/members/hub-1@agent", true],
  ["hub", hub, "pub", "anything/at/all", true],
  ["hub", hub, "pub", "$SYS/x/heartbeat", false],
  ["hub", hub, "sub", "#", true],
  ["hub", hub, "sub", "$SYS/#", true],
  ["hub", hub, "sub", "ada/agent/+/evt", true],
];

for (const [who, r, action, topic, allowed] of TABLE) {
  test(`${who} ${r.peer.clientId} ${action === "pub" ? "publishes on" : "subscribes to"} ${topic}: ${allowed ? "allowed" : "refused"}`, () => {
    const decision = action === "pub" ? mayPublish(r, topic) : maySubscribe(r, topic);
    assert.equal(decision.allowed, allowed, decision.allowed ? "allowed" : decision.reason);
    if (!decision.allowed) assert.ok(decision.reason.length > 0, "a refusal says why");
  });
}

test("the names the MQTT adapter and the seed helpers produce for a member are exactly what the member is allowed", () => {
  assert.equal(mayPublish(tv, topicOf(agentEvt("tv"))).allowed, true);
  assert.equal(mayPublish(tv, topicOf(telemetrySubject("tv", "heartbeat"))).allowed, true);
  assert.equal(mayPublish(tv, topicOf(hubSubject(HUB, "req", "tools", "call"))).allowed, true);
  assert.equal(mayPublish(tv, presenceTopic("tv@a1")).allowed, true);
  assert.equal(maySubscribe(tv, PRESENCE_FILTER).allowed, true);
  assert.equal(maySubscribe(tv, filterOf("_INBOX.tv@a1.>")).allowed, true);
  assert.equal(maySubscribe(tv, filterOf(agentCmd("tv"))).allowed, true);
  assert.equal(maySubscribe(tv, filterOf(hubSubject(HUB, "broadcast", ">"))).allowed, true);
  for (const pattern of memberRoutes("tv", HUB).inbound) assert.equal(maySubscribe(tv, filterOf(pattern)).allowed, true, `bridge inbound ${pattern}`);
  assert.equal(mayPublish(tv, topicOf(agentCmd("speaker"))).allowed, false);
});

test("client ids are bound to node ids: <nodeId> or <nodeId>@<suffix>", () => {
  const cases: readonly [string, string, boolean][] = [
    ["tv", "tv", true],
    ["tv@a1", "tv", true],
    ["tv@A-b_9", "tv", true],
    ["tv@", "tv", false],
    ["tv-1", "tv", false],
    ["tv-1@x", "tv", false],
    ["tvx@1", "tv", false],
    ["tv@a.b", "tv", false],
    ["tv@a/b", "tv", false],
    ["tv@a@b", "tv", false],
    [`tv@${"a".repeat(65)}`, "tv", false],
    ["aedes_5f0c", "tv", false],
    ["", "tv", false],
  ];
  for (const [clientId, nodeId, ok] of cases) assert.equal(clientIdBelongsTo(clientId, nodeId), ok, `${clientId} for ${nodeId}`);
});

test("covers(): a requested pattern is allowed only when every subject it matches is", () => {
  const t = (s: string): string[] => s.split(".");
  const cases: readonly [string, string, boolean][] = [
    ["a.b", "a.b", true],
    ["a.b", "a.c", false],
    ["a.*", "a.b", true],
    ["a.*", "a.*", true],
    ["a.*", "a.>", false],
    ["a.*", "a.b.c", false],
    ["a.>", "a.b", true],
    ["a.>", "a.b.c", true],
    ["a.>", "a.*.c", true],
    ["a.>", "a.>", true],
    ["a.>", "a", false],
    ["a.>", ">", false],
    ["a.b", "a.*", false],
    ["a.b", "a.>", false],
    ["a.b.c", "a.b", false],
    ["*.b", "a.b", true],
    ["*.b", "*.*", false],
  ];
  for (const [allowed, requested, ok] of cases) assert.equal(covers(t(allowed), t(requested)), ok, `${allowed} covers ${requested}`);
});
