/**
 * Liveness and readiness (no token: orchestrators and the systemd watchdog probe them).
 * Live means the process answers; ready means the agent says it is (injected), else 503.
 */
import type { Logger } from "../../core/logger.js";
import { VERSION } from "../../core/version.js";
import { sendJson, type Route } from "../http.js";

export interface Readiness {
  readonly ready: boolean;
  /** Shown under `adaos` in the answer: node_id, role, uptime_s, … */
  readonly info: Readonly<Record<string, unknown>>;
}

export interface HealthDeps {
  readonly readiness: () => Readiness;
  readonly logger: Logger;
}

export function healthRoutes(deps: HealthDeps): Route[] {
  return [
    { method: "GET", path: "/health/live", handler: (_req, res) => sendJson(res, 200, { ok: true }) },
    {
      method: "GET",
      path: "/health/ready",
      handler: (_req, res) => {
        let state: Readiness;
        try {
          state = deps.readiness();
        } catch (err) {
          deps.logger.error({ err }, "readiness check failed");
          state = { ready: false, info: { reason: `readiness check failed: ${(err as Error).message}` } };
        }
        sendJson(res, state.ready ? 200 : 503, { ok: state.ready, adaos: { version: VERSION, ...state.info } });
      },
    },
  ];
}
