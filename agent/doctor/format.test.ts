import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Result } from "./check.js";
import { formatJson, formatText } from "./format.js";

const RESULTS: Result[] = [
  { id: "config", title: "c", status: "fail", message: "agent.yaml is invalid (1 problem)", fix: "correct it", details: ["role must be hub or member"] },
  { id: "api-port", title: "a", status: "ok", message: "127.0.0.1:8777 is free" },
  { id: "nats", title: "n", status: "warn", message: "nats-server not found", fix: "install it" },
];

test("text: status and id in aligned columns, fix after a dash, details under the message, a summary", () => {
  assert.deepEqual(formatText(RESULTS), [
    "FAIL  config    agent.yaml is invalid (1 problem) — fix: correct it",
    "                role must be hub or member",
    "ok    api-port  127.0.0.1:8777 is free",
    "warn  nats      nats-server not found — fix: install it",
    "doctor: 1 ok, 1 warn, 1 fail",
  ]);
});

test("json: one array of {id, status, message, fix} (fix null when none), details only when present", () => {
  assert.deepEqual(JSON.parse(formatJson(RESULTS)), [
    { id: "config", status: "fail", message: "agent.yaml is invalid (1 problem)", fix: "correct it", details: ["role must be hub or member"] },
    { id: "api-port", status: "ok", message: "127.0.0.1:8777 is free", fix: null },
    { id: "nats", status: "warn", message: "nats-server not found", fix: "install it" },
  ]);
});
