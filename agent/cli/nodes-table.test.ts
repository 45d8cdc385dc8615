import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ago, nodesTable } from "./nodes-table.js";

const now = Date.parse("2026-12-07T10:00:00Z");
const s = now / 1000;

test("one aligned row per node: role, online, load, rtt, battery, capabilities not up marked, last seen", () => {
  const lines = nodesTable([
    { node_id: "hub-1", kind: "hub", online: true, last_seen: s - 1, telemetry: { load: 0.251, battery: null, rtt_to: {} }, capabilities: [] },
    {
      node_id: "tablet", kind: "member", online: true, last_seen: s - 3,
      telemetry: { load: 0.5, battery: { percent: 79.4, charging: false }, rtt_to: { hub: 2.345 } },
      capabilities: [{ id: "capability://display.play", status: "up" }, { id: "capability://tts.say", status: "degraded", error: "HTTP 503" }],
    },
    { node_id: "sensor-1", roles: ["member"], online: false, last_seen: s - 600, telemetry: null, capabilities: [{ id: "capability://console.print", status: "up" }] },
    { node_id: "tv", kind: "member", online: true, last_seen: s, telemetry: { load: 1, battery: { percent: 100, charging: true }, rtt_to: { hub: 41.7 } } },
  ], now);
  assert.deepEqual(lines.map((l) => l.replace(/ +/g, " ")), [
    "NODE      ROLE    ONLINE  LOAD  RTT     BATTERY       CAPABILITIES                          LAST SEEN",
    "hub-1     hub     yes     0.25  -       -             -                                     1s ago",
    "tablet    member  yes     0.50  2.3 ms  79%           display.play,tts.say(degraded)        3s ago",
    "sensor-1  member  no      -     -       -             console.print                         10m ago",
    "tv        member  yes     1.00  42 ms   100% charging  -                                     0s ago",
  ].map((l) => l.replace(/ +/g, " ")));
  // Columns line up: every row's ONLINE and LAST SEEN cells start where the header's do.
  const at = (word: string) => lines[0]?.indexOf(word) ?? -1;
  for (const l of lines.slice(1)) {
    assert.match(l.slice(at("ONLINE")), /^(yes|no) /);
    assert.match(l.slice(at("LAST SEEN")), /^\d+[smhd] ago$/);
  }
});

test("ago: seconds, minutes, hours, days; never seen is -", () => {
  assert.equal(ago(s - 5, now), "5s ago");
  assert.equal(ago(s - 300, now), "5m ago");
  assert.equal(ago(s - 3 * 3600, now), "3h ago");
  assert.equal(ago(s - 3 * 86_400, now), "3d ago");
  assert.equal(ago(0, now), "-");
  assert.equal(ago(undefined, now), "-");
  assert.equal(ago(s + 10, now), "0s ago", "a clock ahead of ours is now");
});
