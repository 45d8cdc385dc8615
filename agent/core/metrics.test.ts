import { strict as assert } from "node:assert";
import { test } from "node:test";
import { MetricsRegistry, registerProcessMetrics } from "./metrics.js";

test("counters and gauges render in the Prometheus text format", () => {
  const reg = new MetricsRegistry();
  const c = reg.counter("adaos_x_total", "Things.");
  c.inc();
  c.inc({ reason: 'say "hi"\n' }, 2);
  reg.gauge("adaos_depth", "Depth.").set(7);
  reg.gauge("adaos_live", "Live.", () => [[{ kind: "a" }, 1], [{ kind: "b" }, 2]]);
  let kept = 3;
  reg.counter("adaos_kept_total", "Kept elsewhere.", () => [[{}, kept]]);
  kept = 4;
  const text = reg.render();
  assert.match(text, /^# HELP adaos_x_total Things\.\n# TYPE adaos_x_total counter\nadaos_x_total 1\nadaos_x_total\{reason="say \\"hi\\"\\n"\} 2\n/);
  assert.match(text, /adaos_depth 7\n/);
  assert.match(text, /adaos_live\{kind="a"\} 1\nadaos_live\{kind="b"\} 2\n/);
  assert.match(text, /# TYPE adaos_kept_total counter\nadaos_kept_total 4\n/);
  assert.ok(text.endsWith("\n"));
});

test("registering a name twice returns the same series; a type clash is refused", () => {
  const reg = new MetricsRegistry();
  assert.equal(reg.counter("a_total", "x"), reg.counter("a_total", "x"));
  assert.throws(() => reg.gauge("a_total", "x"));
});

test("process metrics are present", () => {
  const reg = new MetricsRegistry();
  registerProcessMetrics(reg, Date.now());
  const text = reg.render();
  for (const name of ["process_start_time_seconds", "process_resident_memory_bytes", "process_cpu_seconds_total", "nodejs_heap_used_bytes"]) {
    assert.match(text, new RegExp(`^${name} \\d`, "m"));
  }
});
