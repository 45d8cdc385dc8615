import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import catalog from "../../abi/errors.json" with { type: "json" };
import { ERROR_CLASSES, PayloadInvalidError, TimeoutError, fromWire, asAdaosError, InternalError } from "./errors.js";

const repoRoot = new URL("../../../", import.meta.url);

test("every catalog code has exactly one error class with the catalog's name, and vice versa", () => {
  const classes = new Map(ERROR_CLASSES.map((C) => { const e = new C(""); return [e.code, e.name] as const; }));
  assert.equal(classes.size, ERROR_CLASSES.length, "codes are unique across classes");
  const codes = catalog.errors.map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length, "codes are unique in the catalog");
  assert.deepEqual([...classes.keys()].sort(), [...codes].sort());
  for (const e of catalog.errors) assert.equal(classes.get(e.code), e.name, `${e.code} class name`);
});

test("docs/errors.md lists every catalog code with its summary", () => {
  const doc = readFileSync(new URL("docs/errors.md", repoRoot), "utf8");
  for (const e of catalog.errors) {
    assert.ok(doc.includes(e.code), `${e.code} missing from docs/errors.md`);
    assert.ok(doc.includes(e.summary), `${e.code} summary out of date in docs/errors.md`);
  }
});

test("errors cross the wire as {code, message, issues} and are rebuilt as the same class", () => {
  const original = new PayloadInvalidError("bad", { issues: [{ pointer: "/payload/n", message: "must be integer" }] });
  const wire = JSON.parse(JSON.stringify(original.toWire())) as ReturnType<typeof original.toWire>;
  assert.deepEqual(wire, { code: "E_PAYLOAD_INVALID", message: "bad", issues: [{ pointer: "/payload/n", message: "must be integer" }] });
  const rebuilt = fromWire(wire);
  assert.ok(rebuilt instanceof PayloadInvalidError);
  assert.deepEqual(rebuilt.issues, original.issues);
  assert.ok(fromWire({ code: "E_TIMEOUT", message: "t" }) instanceof TimeoutError);
  assert.ok(fromWire({ code: "E_FROM_THE_FUTURE", message: "?" }) instanceof InternalError);
});

test("foreign errors become E_INTERNAL with the cause kept", () => {
  const cause = new RangeError("x");
  const e = asAdaosError(cause);
  assert.equal(e.code, "E_INTERNAL");
  assert.equal(e.cause, cause);
  assert.equal(asAdaosError("str").message, "str");
});
