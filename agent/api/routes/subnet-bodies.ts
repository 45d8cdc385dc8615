/**
 * The bodies the subnet routes take, checked at the boundary: the upstream forms against
 * abi/subnet-api.schema.json, the seed's /registry forms against the payload schemas of
 * net.subnet.node.announced and telemetry.heartbeat (the generated validators), the manifest
 * inside an announce in full. A bad body is a BadRequestError whose message names the first
 * problem and whose issues list all of them with JSON pointers.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv/dist/2020.js";
import type { Manifest } from "../../../abi/manifest.js";
import manifestSchema from "../../../abi/manifest.schema.json" with { type: "json" };
import subnetSchema from "../../../abi/subnet-api.schema.json" with { type: "json" };
import { payloads } from "../../../abi/events/_dist/validators.js";
import { BadRequestError, InternalError, type Issue } from "../../core/errors.js";
import type { CapabilityStatus } from "../../directory/heartbeat.js";
import type { Registration } from "../../directory/directory.js";
import { checkManifest } from "../../directory/manifest-check.js";
import { issuesFromAjv } from "../../registry/issues.js";

export interface HeartbeatBody {
  readonly node_id: string;
  readonly telemetry?: Record<string, unknown> | null;
  readonly capabilities?: readonly CapabilityStatus[];
  readonly revision?: string;
}

export interface AnnounceBody {
  readonly manifest: Manifest;
  readonly hostname?: string;
  readonly base_url?: string;
}

type Validator = (data: unknown) => boolean;
interface WithErrors { errors?: Parameters<typeof issuesFromAjv>[0] }

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function upstream(name: "register" | "heartbeat" | "deregister"): ValidateFunction {
  let v = compiled.get(name);
  if (v === undefined) {
    ajv ??= new Ajv2020({ allErrors: true, strict: true, schemas: [manifestSchema, subnetSchema] });
    v = ajv.getSchema(`${subnetSchema.$id}#/$defs/${name}`);
    if (v === undefined) throw new InternalError(`abi/subnet-api.schema.json has no $defs/${name}`);
    compiled.set(name, v);
  }
  return v;
}

function checked<T>(validate: Validator & WithErrors, body: unknown, what: string): T {
  if (validate(body)) return body as T;
  const issues: Issue[] = issuesFromAjv(validate.errors);
  const first = issues[0];
  throw new BadRequestError(`invalid ${what}: ${first === undefined ? "rejected" : `${first.pointer} ${first.message}`}`, { issues });
}

function generated(key: string): Validator & WithErrors {
  const v = payloads[key];
  if (v === undefined) throw new InternalError(`no generated validator for ${key}`);
  return v;
}

export const parseRegister = (body: unknown): Registration => checked<Registration>(upstream("register"), body, "registration");
export const parseHeartbeat = (body: unknown): HeartbeatBody => checked<HeartbeatBody>(upstream("heartbeat"), body, "heartbeat");
export const parseDeregister = (body: unknown): { readonly node_id: string } => checked<{ node_id: string }>(upstream("deregister"), body, "deregistration");

/** POST /registry/heartbeat: a telemetry.heartbeat payload. */
export const parseRegistryHeartbeat = (body: unknown): HeartbeatBody => checked<HeartbeatBody>(generated("telemetry.heartbeat@1"), body, "heartbeat");

/** POST /registry/announce: a net.subnet.node.announced payload with a manifest that passes in full. */
export function parseAnnounce(body: unknown): AnnounceBody {
  const p = checked<{ manifest: unknown; hostname?: string; base_url?: string }>(generated("net.subnet.node.announced@1"), body, "announce");
  const m = checkManifest(p.manifest);
  if (m.ok) return { ...p, manifest: m.manifest };
  const issues = m.issues.map((i) => ({ pointer: `/manifest${i.pointer}`, message: i.message }));
  throw new BadRequestError(`invalid manifest: ${issues[0]?.pointer ?? "/manifest"} ${issues[0]?.message ?? "rejected"}`, { issues });
}
