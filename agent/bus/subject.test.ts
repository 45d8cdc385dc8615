import { strict as assert } from "node:assert";
import { test } from "node:test";
import { SubjectInvalidError } from "../core/errors.js";
import { matches, patternTokens, subjectTokens } from "./subject.js";

const m = (pattern: string, subject: string): boolean => matches(patternTokens(pattern), subjectTokens(subject));

test("exact, * and > patterns match like NATS", () => {
  assert.equal(m("ui.notify", "ui.notify"), true);
  assert.equal(m("ui.notify", "ui.say"), false);
  assert.equal(m("ui.*", "ui.notify"), true);
  assert.equal(m("ui.*", "ui.notify.x"), false);
  assert.equal(m("*.notify", "ui.notify"), true);
  assert.equal(m("ui.>", "ui.notify"), true);
  assert.equal(m("ui.>", "ui.notify.deep.er"), true);
  assert.equal(m("ui.>", "ui"), false, "> needs at least one token");
  assert.equal(m(">", "anything.at.all"), true);
  assert.equal(m("a.*.c", "a.b.c"), true);
  assert.equal(m("a.*.c", "a.b.d"), false);
  assert.equal(m("a.b", "a"), false);
});

test("malformed subjects and patterns are refused with E_SUBJECT_INVALID", () => {
  for (const bad of ["", "a..b", ".a", "a.", "a b", "a.>.b", "a.b*", "a.>x"]) {
    assert.throws(() => patternTokens(bad), SubjectInvalidError, bad);
  }
  assert.throws(() => subjectTokens("a.*"), SubjectInvalidError);
  assert.throws(() => subjectTokens("a.>"), SubjectInvalidError);
  assert.throws(() => subjectTokens("x".repeat(600)), SubjectInvalidError);
});
