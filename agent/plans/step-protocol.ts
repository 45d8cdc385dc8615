/**
 * The wire shapes between the hub's plan runner and a node's step server
 * (abi/events/plan/step.exec/v1, plan/step.exec.result/v1), and the digest that binds a step's
 * arguments into its exec_token.
 */
import { createHash } from "node:crypto";

export interface StepExecPayload {
  readonly run_id: string;
  readonly step_id: string;
  readonly need: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly attempt?: number;
}

export interface StepResultPayload {
  readonly ok: boolean;
  readonly run_id?: string;
  readonly step_id?: string;
  readonly node_id?: string;
  readonly outputs?: Readonly<Record<string, unknown>>;
  readonly error?: { readonly code: string; readonly message: string };
}

/** sha256 of the arguments as JSON (key order as sent: JSON keeps it across the wire). */
export function argsDigest(args: unknown): string {
  return createHash("sha256").update(JSON.stringify(args ?? {})).digest("base64url");
}
