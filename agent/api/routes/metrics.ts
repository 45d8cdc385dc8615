/** GET /metrics in the Prometheus text format, and the per-route HTTP request counter. */
import type { MetricsRegistry } from "../../core/metrics.js";
import type { Route } from "../http.js";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function metricsRoutes(metrics: MetricsRegistry): Route[] {
  return [
    {
      method: "GET",
      path: "/metrics",
      handler: (_req, res) => {
        const body = metrics.render();
        res.writeHead(200, {
          "content-type": PROMETHEUS_CONTENT_TYPE,
          "content-length": Buffer.byteLength(body),
          "cache-control": "no-store",
        });
        res.end(body);
      },
    },
  ];
}

/** Counts answered requests by route template (never the raw path: bounded label values) and status. */
export function requestCounter(metrics: MetricsRegistry): (route: string, status: number) => void {
  const counter = metrics.counter("adaos_http_requests_total", "HTTP API requests answered, by route and status.");
  return (route, status) => counter.inc({ route, status: String(status) });
}
