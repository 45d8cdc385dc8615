/**
 * Is the hub's nats-server ready? GET /healthz on its loopback monitoring port: 200 once the
 * client listener is up and JetStream is running (nats-server 2.9 server/monitor.go). A probe is
 * one short request without connection reuse, so nothing lingers between probes.
 */
import { get } from "node:http";

/** One probe's deadline: the server answers /healthz in well under a millisecond on loopback. */
export const PROBE_TIMEOUT_MS = 1_000;

export type Probe = () => Promise<boolean>;

export function healthzProbe(port: number, host = "127.0.0.1", timeoutMs = PROBE_TIMEOUT_MS): Probe {
  return () =>
    new Promise<boolean>((resolve) => {
      const req = get({ host, port, path: "/healthz", agent: false, timeout: timeoutMs }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.once("timeout", () => req.destroy(new Error("timeout")));
      req.once("error", () => resolve(false));
    });
}
