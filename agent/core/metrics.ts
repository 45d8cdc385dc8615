/**
 * A small metrics registry rendered in the Prometheus text exposition format (version 0.0.4).
 * Components register counters and gauges once and bump them on hot paths; /metrics renders.
 */

export type Labels = Readonly<Record<string, string>>;

interface Series {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  render(): string[];
}

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return "";
  const parts = keys.map((k) => `${k}="${escapeLabel(labels[k] ?? "")}"`);
  return `{${parts.join(",")}}`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export class Counter implements Series {
  readonly type = "counter";
  readonly #values = new Map<string, number>();

  /** collect, when given, reads a count kept elsewhere at render time and replaces inc() values. */
  constructor(readonly name: string, readonly help: string, private readonly collect?: () => ReadonlyArray<readonly [Labels, number]>) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    if (this.collect) return this.collect().map(([l, v]) => `${this.name}${labelKey(l)} ${formatValue(v)}`);
    if (this.#values.size === 0) return [`${this.name} 0`];
    return [...this.#values].map(([k, v]) => `${this.name}${k} ${formatValue(v)}`);
  }
}

export class Gauge implements Series {
  readonly type = "gauge";
  readonly #values = new Map<string, number>();

  /** collect, when given, is called at render time and replaces set() values. */
  constructor(readonly name: string, readonly help: string, private readonly collect?: () => ReadonlyArray<readonly [Labels, number]>) {}

  set(value: number, labels: Labels = {}): void {
    this.#values.set(labelKey(labels), value);
  }

  get(labels: Labels = {}): number | undefined {
    return this.#values.get(labelKey(labels));
  }

  render(): string[] {
    const pairs: [string, number][] = this.collect ? this.collect().map(([l, v]) => [labelKey(l), v]) : [...this.#values];
    return pairs.map(([k, v]) => `${this.name}${k} ${formatValue(v)}`);
  }
}

export class MetricsRegistry {
  readonly #series = new Map<string, Series>();

  counter(name: string, help: string, collect?: () => ReadonlyArray<readonly [Labels, number]>): Counter {
    return this.#register(new Counter(name, help, collect));
  }

  gauge(name: string, help: string, collect?: () => ReadonlyArray<readonly [Labels, number]>): Gauge {
    return this.#register(new Gauge(name, help, collect));
  }

  #register<S extends Series>(series: S): S {
    const existing = this.#series.get(series.name);
    if (existing !== undefined) {
      if (existing.type !== series.type) throw new Error(`metric ${series.name} already registered as ${existing.type}`);
      return existing as S;
    }
    this.#series.set(series.name, series);
    return series;
  }

  render(): string {
    const out: string[] = [];
    for (const s of this.#series.values()) {
      out.push(`# HELP ${s.name} ${s.help.replace(/\n/g, " ")}`, `# TYPE ${s.name} ${s.type}`, ...s.render());
    }
    return out.join("\n") + "\n";
  }
}

/** Process metrics with the conventional Prometheus names. */
export function registerProcessMetrics(reg: MetricsRegistry, startedAtMs: number): void {
  reg.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch in seconds.", () => [[{}, Math.round(startedAtMs / 1000)]]);
  reg.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", () => [[{}, process.memoryUsage.rss()]]);
  reg.gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", () => {
    const u = process.cpuUsage();
    return [[{}, (u.user + u.system) / 1e6]];
  });
  reg.gauge("nodejs_heap_used_bytes", "V8 heap in use, in bytes.", () => [[{}, process.memoryUsage().heapUsed]]);
  reg.gauge("nodejs_active_handles", "Active libuv handles (sockets, timers, child processes).", () => {
    const info = process.getActiveResourcesInfo();
    return [[{}, info.length]];
  });
}
