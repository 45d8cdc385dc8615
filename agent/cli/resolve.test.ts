import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { FakePlanApi, filmAnswer } from "../api/routes/plans-fake.js";
import { TOKEN, startApi } from "../api/test-fixture.js";
import { BadRequestError } from "../core/errors.js";
import type { CliIo } from "./command.js";
import { dispatch } from "./dispatch.js";

interface Result {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

/** The seed's film plan as a user writes it: wrapped in `plan:`, with its directives beside. */
const FILM_YAML = `
id: film
directives: { prefer_agent: any }
plan:
  steps:
    - { id: find, need: capability://media.search, args: { title: Inception } }
    - { id: stream, need: capability://media.playback, depends_on: [find] }
    - { id: display, need: capability://ui.render.video, depends_on: [stream] }
`;

async function setup(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), "adaos-resolve-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "film.yaml"), FILM_YAML);
  const fake = new FakePlanApi();
  const { url } = await startApi(t, { plans: fake });
  const io = (out: string[], err: string[]): CliIo => ({ out: (l) => void out.push(l), err: (l) => void err.push(l), env: {}, cwd: dir });
  const exec = async (argv: readonly string[]): Promise<Result> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await dispatch(argv, io(out, err));
    return { code, out, err };
  };
  const run = (...args: string[]): Promise<Result> => exec(["resolve", ...args, "--api", url, "--token", TOKEN]);
  return { dir, fake, url, run, exec };
}

test("resolve: per step the chosen node, its score terms, its reasons and each loser with why", async (t) => {
  const { fake, run } = await setup(t);
  const r = await run("film.yaml");
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.deepEqual(r.err, []);
  assert.equal(r.out[0], "plan film (film.yaml): resolved, 3 steps (hub hub-1, 5 nodes in its directory)");
  const at = (head: string): string[] => r.out.slice(r.out.indexOf(head));

  const find = at("step find: needs capability://media.search");
  assert.equal(find[1], "  chosen      plex1  score 111.2");
  assert.equal(find[2], "  terms       prio +85  base +35  load -3  rtt -0.8  cost -5  policy 0  addressed 0  = 111.2");
  assert.equal(find[3], "  inputs      prio 85  prio_base 70  load 0.1  rtt 4 ms  cost 1  policy_fit 0");
  assert.equal(find[4], "  reasons     -");
  assert.equal(find[5], "  lost        nas  80.8  lower score 80.8 < 111.2");

  const display = at("step display: needs capability://ui.render.video (after stream)");
  assert.equal(display[1], "  chosen      browser-abc  score 110");
  assert.equal(display[2], "  terms       prio +95  base +25  load -3  rtt -2  cost -5  policy 0  addressed 0  = 110");
  assert.equal(display[4], "  reasons     formats stream: hls|dash");
  assert.equal(display[5], "  lost        tv  -  formats: stream's outputs [hls, dash] ∩ inputs [mp4] = ∅");

  // The file's own shape goes to the hub (its `plan:` wrapper and directives), with an empty ctx.
  const [req] = fake.requests;
  assert.deepEqual(Object.keys(req?.plan as object), ["id", "directives", "plan"]);
  assert.deepEqual(req?.ctx, {});
});

test("resolve: several losers of a step are aligned; --origin and --allow-addressed reach the hub as ctx", async (t) => {
  const { fake, run } = await setup(t);
  const film = filmAnswer();
  fake.answer = { ...film, rejected: [...film.rejected, { step: "find", node_id: "cloud-search", reason: "node offline" }] };
  const r = await run("film.yaml", "--origin", "browser-abc", "--allow-addressed");
  assert.equal(r.code, 0, r.err.join("\n"));
  const i = r.out.indexOf("  lost        nas           80.8  lower score 80.8 < 111.2");
  assert.ok(i > 0, r.out.join("\n"));
  assert.equal(r.out[i + 1], "              cloud-search  -     node offline");
  assert.deepEqual(fake.requests[0]?.ctx, { origin: "browser-abc", allow_addressed: true });
});

test("resolve --json: the hub's answer as JSON", async (t) => {
  const { run } = await setup(t);
  const r = await run("film.yaml", "--json");
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.deepEqual(JSON.parse(r.out.join("\n")), JSON.parse(JSON.stringify(filmAnswer())));
});

test("resolve: a plan with schema problems prints each one with its pointer, exits 1 and sends nothing", async (t) => {
  const { dir, fake, run } = await setup(t);
  writeFileSync(join(dir, "bad.json"), JSON.stringify({ steps: [{ id: "a", need: "nope" }, { id: "b", need: "x.y", depends_on: ["zz"] }], extra: 1 }));
  const r = await run("bad.json");
  assert.equal(r.code, 1);
  assert.deepEqual(r.out, []);
  assert.match(r.err[0] ?? "", /^adaos-edge: bad\.json: the plan is invalid \(\d+ problems?\)$/);
  assert.ok(r.err.some((l) => /^ {2}\/steps\/0\/need /.test(l)), r.err.join("\n"));
  assert.ok(r.err.some((l) => /^ {2}\/extra /.test(l)), r.err.join("\n"));

  writeFileSync(join(dir, "broken.yaml"), "steps: [\n");
  const yaml = await run("broken.yaml");
  assert.equal(yaml.code, 1);
  assert.match(yaml.err[0] ?? "", /^adaos-edge: broken\.yaml: not valid YAML/);
  assert.match(yaml.err[1] ?? "", /^ {2}\S/);
  assert.deepEqual(fake.calls, []);
});

test("resolve: a missing file is a clear error naming it; no file or two files is a usage error", async (t) => {
  const { fake, run } = await setup(t);
  assert.deepEqual(await run("nope.yaml"), { code: 1, out: [], err: ["adaos-edge: cannot read the plan file nope.yaml: no such file"] });
  const none = await run();
  assert.equal(none.code, 2);
  assert.match(none.err.join("\n"), /missing the plan file/);
  assert.equal((await run("a.yaml", "b.yaml")).code, 2);
  assert.deepEqual(fake.calls, []);
});

test("resolve: an unresolved plan prints the steps that cannot be bound with why, and exits 1", async (t) => {
  const { fake, run } = await setup(t);
  fake.answer = filmAnswer({
    ok: false,
    bindings: [],
    rejected: [{ step: "display", node_id: "tv", reason: "node offline" }],
    unresolved: [{ step: "display", reason: "no candidate for capability://ui.render.video" }],
  });
  const r = await run("film.yaml");
  assert.equal(r.code, 1);
  assert.equal(r.out[0], "plan film (film.yaml): NOT resolved, 1 of 3 steps unresolved (hub hub-1, 5 nodes in its directory)");
  const display = r.out.slice(r.out.indexOf("step display: needs capability://ui.render.video (after stream)"));
  assert.equal(display[1], "  unresolved  no candidate for capability://ui.render.video");
  assert.equal(display[2], "  lost        tv  -  node offline");
  assert.ok(r.out.includes("  chosen      - (not bound: the plan did not resolve)"));
  assert.deepEqual(r.out.slice(-2), ["unresolved:", "  display  no candidate for capability://ui.render.video"]);

  const json = await run("film.yaml", "--json");
  assert.equal(json.code, 1);
  assert.equal((JSON.parse(json.out.join("\n")) as { ok: boolean }).ok, false);
});

test("resolve: a member (no plan runtime) answers 404, shown as a clear error naming the address", async (t) => {
  const { dir, exec } = await setup(t);
  const member = await startApi(t);
  const r = await exec(["resolve", join(dir, "film.yaml"), "--api", member.url, "--token", TOKEN]);
  assert.equal(r.code, 1);
  assert.deepEqual(r.out, []);
  assert.equal(
    r.err.join("\n"),
    `adaos-edge: plans are resolved and run by the hub: send this to the hub's API (${member.url} answered 404: point --api or ADAOS_EDGE_API at the hub) (E_NOT_FOUND)`,
  );
});

test("resolve: the hub's own 400 is shown with its issues; a wrong token exits 1", async (t) => {
  const { run, exec, url, fake } = await setup(t);
  fake.fail.resolve = new BadRequestError("the plan is invalid (1 problem)", { issues: [{ pointer: "/steps/0/need", message: "unknown capability family" }] });
  const r = await run("film.yaml");
  assert.equal(r.code, 1);
  assert.deepEqual(r.err, ["adaos-edge: the plan is invalid (1 problem) (E_BAD_REQUEST)", "  /steps/0/need unknown capability family"]);
  const wrong = await exec(["resolve", "film.yaml", "--api", url, "--token", "wrong"]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.err[0] ?? "", /wrong API token \(E_UNAUTHORIZED\)/);
});
