/**
 * Tests of the scenario expression language (expr.ts, expr-lexer.ts): literals and precedence,
 * filters on an envelope, member access and prototype safety, equality and comparison, templates,
 * the limits, and that every error says clearly what is wrong and where.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ExpressionError } from "../core/errors.js";
import { checkTemplate, compileExpr, evaluateExpr, hasTemplate, interpolate, interpolateDeep, type Scope } from "./expr.js";

const envelope = {
  id: "e1",
  event_name: "weather.reported",
  source: "agent://member/a",
  payload: { city: "Berlin", temp: 27.5, tags: ["warm", "dry"], wind: { kmh: 12 }, none: null },
};
const scope: Scope = { $: envelope, ctx: { name: "Ada", n: 5, list: [1, 2, 3], obj: { a: 1 } }, bag: { count: 2 }, run: { id: "r1" } };

const ev = (source: string, s: Scope = scope): unknown => evaluateExpr(source, s);

/** Asserts that `f` throws an ExpressionError whose message matches every pattern. */
function throwsExpr(f: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof ExpressionError, `expected ExpressionError, got ${String(e)}`);
    assert.equal(e.code, "E_EXPRESSION_INVALID");
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test("literals: numbers, strings, booleans, null", () => {
  assert.equal(ev("42"), 42);
  assert.equal(ev("3.25"), 3.25);
  assert.equal(ev("1e3"), 1000);
  assert.equal(ev('"hi"'), "hi");
  assert.equal(ev("'hi'"), "hi");
  assert.equal(ev("true"), true);
  assert.equal(ev("false"), false);
  assert.equal(ev("null"), null);
});

test("string escapes", () => {
  assert.equal(ev(String.raw`"a\"b"`), 'a"b');
  assert.equal(ev(String.raw`'it\'s'`), "it's");
  assert.equal(ev(String.raw`"back\\slash"`), "back\\slash");
  assert.equal(ev(String.raw`"l1\nl2\tx"`), "l1\nl2\tx");
  assert.equal(ev(`"it's"`), "it's", "the other quote needs no escape");
});

test("unary minus and not", () => {
  assert.equal(ev("-5"), -5);
  assert.equal(ev("2 - -3"), 5);
  assert.equal(ev("!true"), false);
  assert.equal(ev("!!ctx.name"), true);
  assert.equal(ev("!$.payload.missing"), true);
});

test("precedence: * before +, comparison before &&, && before ||", () => {
  assert.equal(ev("1 + 2 * 3 == 7"), true);
  assert.equal(ev("(1 + 2) * 3"), 9);
  assert.equal(ev("10 - 4 - 3"), 3, "left associative");
  assert.equal(ev("20 / 2 / 5"), 2);
  assert.equal(ev("7 % 4"), 3);
  assert.equal(ev("true || false && false"), true);
  assert.equal(ev("(true || false) && false"), false);
  assert.equal(ev("1 < 2 == true"), true);
  assert.equal(ev("-2 * 3"), -6);
});

test("array literals", () => {
  assert.deepEqual(ev('[1, "a", ctx.n]'), [1, "a", 5]);
  assert.deepEqual(ev("[]"), []);
  assert.deepEqual(ev("[[1], [2, 3]][1]"), [2, 3]);
});

test("filter: $.payload.city == \"Berlin\" is true, another city false", () => {
  assert.equal(ev('$.payload.city == "Berlin"'), true);
  assert.equal(ev('$.payload.city == "Paris"'), false);
  assert.equal(ev('$.payload.city != "Paris"'), true);
});

test("filter: && with a number comparison and a source check", () => {
  assert.equal(ev('$.payload.temp > 25 && $.source != "agent://member/x"'), true);
  assert.equal(ev('$.payload.temp > 30 && $.source != "agent://member/x"'), false);
  assert.equal(ev('$.payload.temp > 25 && $.source != "agent://member/a"'), false);
});

test("filter: a missing field is undefined and the filter is false, not an error", () => {
  assert.equal(ev('$.payload.country == "DE"'), false);
  assert.equal(ev("$.payload.nothing.deeper.still"), undefined);
  assert.equal(ev("$.payload.none.x"), undefined, "property of null");
  assert.equal(ev('$.payload.missing["k"][0]'), undefined);
});

test("member access: dots, brackets, indexes, length", () => {
  assert.equal(ev("$.payload.wind.kmh"), 12);
  assert.equal(ev('$["payload"]["city"]'), "Berlin");
  assert.equal(ev("$.payload.tags[1]"), "dry");
  assert.equal(ev("$.payload.tags[5]"), undefined);
  assert.equal(ev("$.payload.tags[-1]"), undefined);
  assert.equal(ev("$.payload.tags.length"), 2);
  assert.equal(ev("$.payload.city.length"), 6);
  assert.equal(ev("$.payload.city[0]"), "B");
  assert.equal(ev("ctx.list[bag.count]"), 3, "computed index");
  assert.equal(ev("ctx.obj.null"), undefined, "keywords can be property names");
});

test("prototype safety: __proto__, constructor, prototype and inherited properties read as undefined", () => {
  assert.equal(ev("ctx.__proto__"), undefined);
  assert.equal(ev("ctx.constructor"), undefined);
  assert.equal(ev('ctx["constructor"]'), undefined);
  assert.equal(ev("ctx.prototype"), undefined);
  assert.equal(ev("ctx.toString"), undefined);
  assert.equal(ev("ctx.hasOwnProperty"), undefined);
  assert.equal(ev("ctx.list.map"), undefined);
  assert.equal(ev("ctx.list.constructor"), undefined);
  assert.equal(ev("ctx.name.constructor"), undefined);
  assert.equal(ev("ctx.name.toUpperCase"), undefined);
  assert.equal(ev("ctx.constructor.constructor"), undefined);
});

test("prototype safety: an own __proto__ key (as JSON.parse makes it) is still hidden", () => {
  const own = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as unknown;
  assert.equal(ev("o.__proto__", { o: own }), undefined);
  assert.equal(ev("o.y", { o: own }), 2);
});

test("only plain objects are visible: class instances, Maps and functions read as undefined", () => {
  class Secret {
    readonly key = "k";
  }
  assert.equal(ev("o.key", { o: new Secret() }), undefined);
  assert.equal(ev("o.size", { o: new Map() }), undefined);
  assert.equal(ev("o.name", { o: () => 1 }), undefined);
  assert.equal(ev("o.a", { o: Object.assign(Object.create(null) as object, { a: 1 }) }), 1, "null prototype is fine");
});

test("inherited properties of a plain object's prototype chain are not visible", () => {
  const child = Object.create({ inherited: 1 }) as Record<string, unknown>;
  child.own = 2;
  assert.equal(ev("o.inherited", { o: child }), undefined);
});

test("== is strict for primitives: no coercion", () => {
  assert.equal(ev('1 == "1"'), false);
  assert.equal(ev("0 == false"), false);
  assert.equal(ev("null == false"), false);
  assert.equal(ev('"" == 0'), false);
  assert.equal(ev("null == null"), true);
  assert.equal(ev("$.payload.missing == null"), false, "undefined is not null");
});

test("== is deep for arrays and objects", () => {
  assert.equal(ev('$.payload.tags == ["warm", "dry"]'), true);
  assert.equal(ev('$.payload.tags == ["dry", "warm"]'), false);
  assert.equal(ev('$.payload.tags == ["warm"]'), false);
  assert.equal(ev("a == b", { a: { x: [1, { y: 2 }] }, b: { x: [1, { y: 2 }] } }), true);
  assert.equal(ev("a == b", { a: { x: 1 }, b: { x: 1, y: 2 } }), false);
  assert.equal(ev("a == b", { a: { x: 1 }, b: { y: 1 } }), false);
  assert.equal(ev("a != b", { a: [], b: {} }), true, "an array is not an object");
});

test("< <= > >= on numbers and on strings", () => {
  assert.equal(ev("1 < 2"), true);
  assert.equal(ev("2 <= 2"), true);
  assert.equal(ev("3 > 4"), false);
  assert.equal(ev("4 >= 4.5"), false);
  assert.equal(ev('"apple" < "banana"'), true);
  assert.equal(ev('"b" >= "a"'), true);
});

test("comparing different types is an error naming both types", () => {
  throwsExpr(() => ev('1 < "2"'), /cannot compare number with string/, /in: 1 < "2"/);
  throwsExpr(() => ev('"2" > 1'), /cannot compare string with number/);
  throwsExpr(() => ev("$.payload.missing > 3"), /cannot compare undefined with number/);
  throwsExpr(() => ev("ctx.list < ctx.list"), /cannot compare array with array/);
});

test("+ adds numbers and joins text when either side is a string", () => {
  assert.equal(ev("bag.count + 1"), 3);
  assert.equal(ev('"Hello, " + ctx.name'), "Hello, Ada");
  assert.equal(ev('"n=" + ctx.n'), "n=5");
  assert.equal(ev('ctx.n + "!"'), "5!");
  assert.equal(ev('"x" + $.payload.missing'), "x", "undefined joins as empty text");
  assert.equal(ev('"o=" + ctx.obj'), 'o={"a":1}');
});

test("arithmetic on non-numbers is an error", () => {
  throwsExpr(() => ev("true + 1"), /cannot use "\+" on boolean and number/);
  throwsExpr(() => ev('"a" - 1'), /cannot use "-" on string and number/);
  throwsExpr(() => ev("ctx.list * 2"), /cannot use "\*" on array and number/);
  throwsExpr(() => ev("-ctx.name"), /cannot negate string/);
  throwsExpr(() => ev("null + null"), /cannot use "\+" on null and null/);
});

test("division and remainder by zero are errors", () => {
  throwsExpr(() => ev("1 / 0"), /division by zero/);
  throwsExpr(() => ev("1 % 0"), /division by zero/);
});

test("&& and || give booleans by truthiness", () => {
  assert.equal(ev('ctx.name || "x"'), true);
  assert.equal(ev("0 || null"), false);
  assert.equal(ev('ctx.name && ""'), false);
  assert.equal(ev("1 && 2"), true);
});

test("&& and || short-circuit: the right side is not evaluated", () => {
  assert.equal(ev("false && nosuch.name"), false);
  assert.equal(ev("true || nosuch.name"), true);
  assert.equal(ev("false && 1 / 0"), false);
  throwsExpr(() => ev("true && nosuch"), /unknown name nosuch/);
});

test("?? keeps the left value unless it is null or undefined", () => {
  assert.equal(ev('$.payload.missing ?? "default"'), "default");
  assert.equal(ev('$.payload.none ?? "default"'), "default");
  assert.equal(ev("bag.zero ?? 7", { bag: { zero: 0 } }), 0);
  assert.equal(ev('ctx.name ?? "x"'), "Ada");
});

test("in: membership in arrays, own keys of objects, substrings", () => {
  assert.equal(ev("3 in [1, 2, 3]"), true);
  assert.equal(ev("4 in ctx.list"), false);
  assert.equal(ev('"warm" in $.payload.tags'), true);
  assert.equal(ev("[1] in [[1], [2]]"), true, "deep membership");
  assert.equal(ev('"name" in ctx'), true);
  assert.equal(ev('"nope" in ctx'), false);
  assert.equal(ev('"constructor" in ctx'), false);
  assert.equal(ev('"toString" in ctx'), false);
  assert.equal(ev('"erl" in $.payload.city'), true);
  assert.equal(ev('"x" in $.payload.missing'), false);
  assert.equal(ev('!("x" in ctx) && 1 + 1 in [2]'), true, "in binds tighter than &&, looser than +");
  throwsExpr(() => ev('"x" in 5'), /cannot use "in" with string and number/);
});

test("unknown top-level name: the error lists the known names", () => {
  throwsExpr(() => ev("ctxx.name"), /unknown name ctxx; known: \$, ctx, bag, run/, /in: ctxx\.name/);
  throwsExpr(() => ev("x", {}), /unknown name x; known: \(none\)/);
});

test("a lone = is refused and suggests ==", () => {
  throwsExpr(() => compileExpr('$.payload.city = "Berlin"'), /unexpected "=" at 16 in: \$\.payload\.city = "Berlin"/, /use == to compare/);
  throwsExpr(() => compileExpr("a === b"), /unexpected "===" at 3/, /already strict/);
  throwsExpr(() => compileExpr("a & b"), /unexpected "&"/, /use &&/);
});

test("calls are refused", () => {
  throwsExpr(() => compileExpr("ctx.name.toUpperCase()"), /calls are not allowed/, /at 21/);
  throwsExpr(() => compileExpr("f(1)"), /calls are not allowed/);
  throwsExpr(() => compileExpr("(ctx)(1)"), /calls are not allowed/);
});

test("syntax errors give the position", () => {
  throwsExpr(() => compileExpr('"Berlin'), /unterminated string at 1 in: "Berlin/);
  throwsExpr(() => compileExpr("'abc"), /unterminated string/);
  throwsExpr(() => compileExpr(String.raw`"a\qb"`), /unknown escape "\\q" at 3/);
  throwsExpr(() => compileExpr("1 +"), /unexpected end of expression at 4/);
  throwsExpr(() => compileExpr("(1 + 2"), /unexpected end of expression/, /expected "\)"/);
  throwsExpr(() => compileExpr("a b"), /unexpected "b" at 3/);
  throwsExpr(() => compileExpr("a.1"), /unexpected 1 at 3/, /expected a property name/);
  throwsExpr(() => compileExpr("a # b"), /unexpected "#" at 3/);
  throwsExpr(() => compileExpr("{}"), /unexpected "\{" at 1/);
  throwsExpr(() => compileExpr("in"), /unexpected "in" at 1/);
  throwsExpr(() => compileExpr("   "), /empty expression/);
});

test("source longer than 2,000 characters is refused", () => {
  const ok = "1" + " + 1".repeat(499);
  assert.ok(ok.length <= 2000);
  assert.equal(evaluateExpr(ok, {}), 500);
  throwsExpr(() => compileExpr(`"${"x".repeat(2000)}"`), /longer than 2000 characters/);
});

test("nesting deeper than 64 is refused, 64 is fine", () => {
  assert.equal(evaluateExpr("(".repeat(64) + "1" + ")".repeat(64), {}), 1);
  throwsExpr(() => compileExpr("(".repeat(65) + "1" + ")".repeat(65)), /nested deeper than 64/);
  throwsExpr(() => compileExpr("!".repeat(65) + "true"), /nested deeper than 64/);
  throwsExpr(() => compileExpr("[".repeat(65) + "]".repeat(65)), /nested deeper than 64/);
  throwsExpr(() => compileExpr("(".repeat(1000)), /nested deeper than 64/); // no stack overflow
});

test("a key must be a string or a number", () => {
  throwsExpr(() => ev("ctx[true]"), /a key must be a string or a number, not boolean/);
});

test("compileExpr returns the same Expr for the same source, and it can be reused", () => {
  const a = compileExpr("bag.count * 10");
  assert.equal(compileExpr("bag.count * 10"), a);
  assert.equal(a.source, "bag.count * 10");
  assert.equal(a.evaluate({ bag: { count: 1 } }), 10);
  assert.equal(a.evaluate({ bag: { count: 4 } }), 40);
  assert.notEqual(compileExpr("bag.count * 11"), a);
});

test("the compile cache is bounded: old entries are dropped", () => {
  const first = compileExpr("1 + 1000000");
  for (let i = 0; i < 600; i++) compileExpr(`1 + ${i}`);
  assert.notEqual(compileExpr("1 + 1000000"), first, "a fresh Expr after eviction");
});

test("an Expr is frozen", () => {
  assert.ok(Object.isFrozen(compileExpr("1")));
});

test("interpolate: a lone ${expr} keeps its type", () => {
  assert.equal(interpolate("${ctx.n}", scope), 5);
  assert.equal(interpolate("${ctx.n}", { ctx: { n: 5 } }), 5);
  assert.equal(interpolate("${ true }", scope), true);
  assert.deepEqual(interpolate("${ctx.obj}", scope), { a: 1 });
  assert.equal(interpolate("${ctx.obj}", scope), (scope.ctx as { obj: unknown }).obj, "the value itself");
  assert.equal(interpolate("${$.payload.none}", scope), null);
  assert.equal(interpolate("${bag.count + 1}", scope), 3);
});

test("interpolate: mixed templates give text", () => {
  assert.equal(interpolate("Hello ${ctx.name}", scope), "Hello Ada");
  assert.equal(interpolate("${ctx.n}!", scope), "5!");
  assert.equal(interpolate("${ctx.n}${ctx.n}", scope), "55");
  assert.equal(interpolate("list=${ctx.list} obj=${ctx.obj}", scope), 'list=[1,2,3] obj={"a":1}');
  assert.equal(interpolate("[${$.payload.missing}|${$.payload.none}]", scope), "[|]");
  assert.equal(interpolate("${true} and ${1.5}", scope), "true and 1.5");
});

test("interpolate: strings without templates come back unchanged", () => {
  assert.equal(interpolate("plain text", scope), "plain text");
  assert.equal(interpolate("", scope), "");
  assert.equal(interpolate("costs $5 {ok}", scope), "costs $5 {ok}");
});

test("interpolate: $${ is a literal ${", () => {
  assert.equal(interpolate("$${ctx.name}", scope), "${ctx.name}");
  assert.equal(interpolate("a $${x} b ${ctx.name}", scope), "a ${x} b Ada");
  assert.equal(interpolate("$${", scope), "${");
});

test("interpolate: a } inside a quoted string does not end the expression", () => {
  assert.equal(interpolate('${"}" + ctx.name}', scope), "}Ada");
  assert.equal(interpolate("<${'a\\'}' + 1}>", scope), "<a'}1>");
});

test("interpolate: errors in an expression surface as ExpressionError", () => {
  throwsExpr(() => interpolate("Hi ${nosuch}", scope), /unknown name nosuch/);
  throwsExpr(() => interpolate("Hi ${ctx.name", scope), /unterminated "\$\{" at 4/);
});

test("interpolateDeep: every string in nested objects and arrays, other values untouched", () => {
  const input = { greeting: "Hi ${ctx.name}", n: "${ctx.n}", fixed: 7, flag: true, none: null, list: ["${bag.count}", { deep: "${run.id}-x" }] };
  const out = interpolateDeep(input, scope);
  assert.deepEqual(out, { greeting: "Hi Ada", n: 5, fixed: 7, flag: true, none: null, list: [2, { deep: "r1-x" }] });
  assert.equal(input.greeting, "Hi ${ctx.name}", "the input is not changed");
  assert.notEqual(out, input);
  assert.equal(interpolateDeep("${ctx.n}", scope), 5);
  assert.equal(interpolateDeep(42, scope), 42);
});

test("interpolateDeep: a __proto__ key stays an own key and does not change the prototype", () => {
  const input = JSON.parse('{"__proto__": {"polluted": "${ctx.name}"}}') as unknown;
  const out = interpolateDeep(input, scope) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.ok(Object.hasOwn(out, "__proto__"));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test("interpolateDeep: a value that refers to itself is refused, not a stack overflow", () => {
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  throwsExpr(() => interpolateDeep(loop, scope), /nested too deeply/);
});

test("hasTemplate", () => {
  assert.equal(hasTemplate("Hello ${ctx.name}"), true);
  assert.equal(hasTemplate("${x}"), true);
  assert.equal(hasTemplate("plain"), false);
  assert.equal(hasTemplate("$5 and {x}"), false);
  assert.equal(hasTemplate("$${not a template}"), false);
  assert.equal(hasTemplate("$${escaped} but ${real}"), true);
  assert.equal(hasTemplate("${unterminated"), true);
});

test("checkTemplate accepts good templates", () => {
  assert.doesNotThrow(() => checkTemplate("Hello ${ctx.name}, you have ${bag.count + 1} items"));
  assert.doesNotThrow(() => checkTemplate("no templates at all"));
  assert.doesNotThrow(() => checkTemplate("$${literal}"));
  assert.doesNotThrow(() => checkTemplate("${nosuch.name}"), "names are checked when evaluated, not here");
});

test("checkTemplate names the bad part", () => {
  throwsExpr(() => checkTemplate('ok ${ctx.name} bad ${ctx.city = "x"}'), /bad template part \$\{ctx\.city = "x"\}/, /unexpected "="/, /use ==/);
  throwsExpr(() => checkTemplate("${}"), /bad template part \$\{\}/, /empty expression/);
  throwsExpr(() => checkTemplate("${f(1)}"), /calls are not allowed/);
  throwsExpr(() => checkTemplate("tail ${ctx"), /unterminated "\$\{" at 6 in template: tail \$\{ctx/);
});

test("checkTemplate keeps the cause of the bad part", () => {
  try {
    checkTemplate("${1 +}");
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof ExpressionError);
    assert.ok(e.cause instanceof ExpressionError);
  }
});

test("evaluation is fast: a compiled filter runs 100,000 times quickly", () => {
  const filter = compileExpr('$.payload.city == "Berlin" && $.payload.temp > 25');
  const started = performance.now();
  let hits = 0;
  for (let i = 0; i < 100_000; i++) if (filter.evaluate(scope) === true) hits++;
  assert.equal(hits, 100_000);
  assert.ok(performance.now() - started < 1000, "well under 10 µs per evaluation");
});

test("a string after a value is unexpected, not a call, even if it reads \"(\"", () => {
  throwsExpr(() => compileExpr('ctx "("'), /unexpected "\(" at 5/);
});
