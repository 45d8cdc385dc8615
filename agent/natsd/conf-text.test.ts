import { strict as assert } from "node:assert";
import { test } from "node:test";
import { quote, renderConf, renderEntries, section } from "./conf-text.js";

test("strings are double-quoted with only the escapes nats-server 2.9 knows", () => {
  assert.equal(quote("plain"), '"plain"');
  assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(quote("l1\nl2\r\t"), '"l1\\nl2\\r\\t"');
  assert.equal(quote("\x01\x7f"), '"\\x01\\x7f"');
  assert.equal(quote("$VAR # not a comment // either"), '"$VAR # not a comment // either"', "quoted: no variable, no comment");
  assert.equal(quote("héllo ✓"), '"héllo ✓"', "other UTF-8 is literal (\\u is a parse error in 2.9)");
});

test("blocks, lists and scalars render deterministically; undefined entries are left out", () => {
  const lines = renderEntries({
    port: 4222,
    logtime: false,
    skipped: undefined,
    http: "127.0.0.1:8222",
    jetstream: { domain: "hub", store_dir: "/var/x" },
    users: [{ user: "a", password: "p" }],
    allow: ["x.>", "_INBOX.>"],
  });
  assert.deepEqual(lines, [
    "port: 4222",
    "logtime: false",
    'http: "127.0.0.1:8222"',
    "jetstream {",
    '  domain: "hub"',
    '  store_dir: "/var/x"',
    "}",
    "users: [",
    "  {",
    '    user: "a"',
    '    password: "p"',
    "  }",
    "]",
    'allow: ["x.>", "_INBOX.>"]',
  ]);
});

test("long scalar lists go one item per line", () => {
  const items = Array.from({ length: 6 }, (_, i) => `nats-route://route:secret@127.0.0.1:${6222 + i}`);
  const lines = renderEntries({ routes: items });
  assert.equal(lines.length, items.length + 2);
  assert.equal(lines[1], `  "${items[0]}"`);
});

test("bad keys and non-integers are refused, not written", () => {
  assert.throws(() => renderEntries({ "bad key": 1 }), RangeError);
  assert.throws(() => renderEntries({ ok: 1.5 }), RangeError);
});

test("sections: comment lines, then entries; sections separated by one blank line", () => {
  const text = renderConf([section(["one", "two"], { a: 1 }), [], section("three", { b: true })]);
  assert.equal(text, "# one\n# two\na: 1\n\n# three\nb: true\n");
});
