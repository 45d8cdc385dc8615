import { strict as assert } from "node:assert";
import { test } from "node:test";
import { HypothesisReader, type Hypothesis } from "./hypothesis.js";
import { Timeline } from "./timeline.js";

/** pocketsphinx_continuous -time yes output for two utterances, as measured. */
const OUTPUT = [
  "stop the tv",
  "<sil> 3.730 3.830 1.000000",
  "stop 3.840 4.140 1.000000",
  "the 4.150 4.290 1.000000",
  "tv 4.300 4.830 1.000000",
  "play the matrix on the tv",
  "play 6.050 6.390 1.000000",
  "on(2) 7.030 7.130 1.000000",
  "",
  "<sil> 9.000 9.400 1.000000",
  "<sil> 11.000 11.400 1.000000",
];

test("HypothesisReader: each hypothesis once, placed by its first real word; an empty one by its first segment", () => {
  const heard: Hypothesis[] = [];
  const r = new HypothesisReader((h) => heard.push(h));
  for (const l of OUTPUT) r.line(l);
  assert.deepEqual(
    heard.map((h) => ({ text: h.text, atMs: Math.round(h.atSec * 1000) })),
    [
      { text: "stop the tv", atMs: 3990 },
      { text: "play the matrix on the tv", atMs: 6220 },
      { text: "", atMs: 9200 },
    ],
  );
});

const SEC = 16_000;

function timeline(): { tl: Timeline; results: Map<number, string | Error>; add: (sec: number) => number } {
  const tl = new Timeline();
  const results = new Map<number, string | Error>();
  const add = (sec: number): number => {
    const box = { id: 0 };
    box.id = tl.add(sec * SEC, (r) => results.set(box.id, r));
    return box.id;
  };
  return { tl, results, add };
}

test("Timeline: a hypothesis settles the utterance whose stretch of the stream holds it", () => {
  const { tl, results, add } = timeline();
  const a = add(2); // 0–2 s
  const b = add(3); // 2–5 s
  tl.hear({ text: "show inception on the tv", atSec: 3 });
  assert.equal(results.get(b), "show inception on the tv");
  assert.equal(results.get(a), "", "an earlier utterance pocketsphinx printed nothing for is settled empty");
  assert.deepEqual(tl.counts(), { dropped: 0, passedOver: 1, noMatch: 0 });
  assert.equal(tl.pending, 0);
});

test("Timeline: a late line of a timed-out utterance, and a second line of an answered one, are dropped and counted", () => {
  const { tl, results, add } = timeline();
  const a = add(2);
  const b = add(2);
  assert.equal(tl.remove(a), true, "a times out");
  assert.equal(tl.remove(a), false);
  tl.hear({ text: "stop the tv", atSec: 1 });
  assert.equal(results.has(b), false, "b is not given a's line");
  tl.hear({ text: "play arrival on the tv", atSec: 3 });
  tl.hear({ text: "the tv", atSec: 3.5 });
  assert.equal(results.get(b), "play arrival on the tv");
  assert.deepEqual(tl.counts(), { dropped: 2, passedOver: 0, noMatch: 0 });
});

test("Timeline: reset fails everything pending and starts the stream again at 0", () => {
  const { tl, results, add } = timeline();
  const a = add(5);
  tl.reset(new Error("pocketsphinx died"));
  assert.ok(results.get(a) instanceof Error);
  const b = add(1); // 0–1 s of the new stream
  tl.hear({ text: "stop the tv", atSec: 0.5 });
  assert.equal(results.get(b), "stop the tv");
});

test("Timeline: noMatch settles the named utterance with \"\" only while it is pending", () => {
  const { tl, results, add } = timeline();
  const a = add(2);
  const b = add(2);
  assert.equal(tl.earliest(), a);
  tl.hear({ text: "stop the tv", atSec: 1 });
  tl.noMatch(a); // a was answered meanwhile: nothing happens
  assert.equal(results.get(a), "stop the tv");
  assert.equal(tl.earliest(), b);
  tl.noMatch(b);
  assert.equal(results.get(b), "");
  assert.deepEqual(tl.counts(), { dropped: 0, passedOver: 0, noMatch: 1 });
  assert.equal(tl.earliest(), undefined);
});
