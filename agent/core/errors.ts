/**
 * Error classes with stable codes. The catalog is abi/errors.json; errors.test.ts keeps this
 * file, the catalog and docs/errors.md in sync. Across a wire an error travels as
 * {code, message, issues?} and is rebuilt with fromWire().
 */

/** One problem found by a validator: where (JSON pointer) and what. */
export interface Issue {
  readonly pointer: string;
  readonly message: string;
}

export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly issues?: readonly Issue[];
}

export abstract class AdaosError extends Error {
  abstract readonly code: string;
  readonly issues: readonly Issue[];

  constructor(message: string, options: { cause?: unknown; issues?: readonly Issue[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.issues = options.issues ?? [];
  }

  toWire(): WireError {
    return this.issues.length > 0
      ? { code: this.code, message: this.message, issues: this.issues }
      : { code: this.code, message: this.message };
  }
}

export class InternalError extends AdaosError { readonly code = "E_INTERNAL"; }
export class UsageError extends AdaosError { readonly code = "E_USAGE"; }
export class ConfigReadError extends AdaosError { readonly code = "E_CONFIG_READ"; }
export class ConfigInvalidError extends AdaosError { readonly code = "E_CONFIG_INVALID"; }
export class EnvelopeInvalidError extends AdaosError { readonly code = "E_ENVELOPE_INVALID"; }
export class UnknownEventError extends AdaosError { readonly code = "E_EVENT_UNKNOWN"; }
export class PayloadInvalidError extends AdaosError { readonly code = "E_PAYLOAD_INVALID"; }
export class EnvelopeExpiredError extends AdaosError { readonly code = "E_ENVELOPE_EXPIRED"; }
export class SubjectInvalidError extends AdaosError { readonly code = "E_SUBJECT_INVALID"; }
export class TimeoutError extends AdaosError { readonly code = "E_TIMEOUT"; }
export class NoRespondersError extends AdaosError { readonly code = "E_NO_RESPONDERS"; }
export class BusClosedError extends AdaosError { readonly code = "E_BUS_CLOSED"; }
export class TransportClosedError extends AdaosError { readonly code = "E_TRANSPORT_CLOSED"; }
export class PortInUseError extends AdaosError { readonly code = "E_PORT_IN_USE"; }
export class UnauthorizedError extends AdaosError { readonly code = "E_UNAUTHORIZED"; }
export class BadRequestError extends AdaosError { readonly code = "E_BAD_REQUEST"; }
export class PayloadTooLargeError extends AdaosError { readonly code = "E_PAYLOAD_TOO_LARGE"; }
export class NotFoundError extends AdaosError { readonly code = "E_NOT_FOUND"; }
export class MethodNotAllowedError extends AdaosError { readonly code = "E_METHOD_NOT_ALLOWED"; }
export class ApiUnreachableError extends AdaosError { readonly code = "E_API_UNREACHABLE"; }
export class RegistryInvalidError extends AdaosError { readonly code = "E_REGISTRY_INVALID"; }
export class ConflictError extends AdaosError { readonly code = "E_CONFLICT"; }
export class StorageError extends AdaosError { readonly code = "E_STORAGE"; }
export class ScenarioInvalidError extends AdaosError { readonly code = "E_SCENARIO_INVALID"; }
export class ExpressionError extends AdaosError { readonly code = "E_EXPRESSION_INVALID"; }
export class ScheduleInvalidError extends AdaosError { readonly code = "E_SCHEDULE_INVALID"; }
export class CancelledError extends AdaosError { readonly code = "E_CANCELLED"; }
export class ScenarioBusyError extends AdaosError { readonly code = "E_SCENARIO_BUSY"; }
export class StepFailedError extends AdaosError { readonly code = "E_STEP_FAILED"; }
export class NodeUnavailableError extends AdaosError { readonly code = "E_NODE_UNAVAILABLE"; }

type ErrorClass = new (message: string, options?: { cause?: unknown; issues?: readonly Issue[] }) => AdaosError;

/** Every concrete class, for fromWire() and the catalog test. */
export const ERROR_CLASSES: readonly ErrorClass[] = [
  InternalError, UsageError, ConfigReadError, ConfigInvalidError, EnvelopeInvalidError,
  UnknownEventError, PayloadInvalidError, EnvelopeExpiredError, SubjectInvalidError, TimeoutError,
  NoRespondersError, BusClosedError, TransportClosedError, PortInUseError, UnauthorizedError, BadRequestError,
  PayloadTooLargeError, NotFoundError, MethodNotAllowedError, ApiUnreachableError, RegistryInvalidError, ConflictError, StorageError,
  ScenarioInvalidError, ExpressionError, ScheduleInvalidError, CancelledError, ScenarioBusyError, StepFailedError, NodeUnavailableError,
];

const byCode = new Map<string, ErrorClass>(ERROR_CLASSES.map((C) => [new C("").code, C]));

/** Rebuild an error received as {code, message}; unknown codes become InternalError. */
export function fromWire(wire: WireError): AdaosError {
  const C = byCode.get(wire.code) ?? InternalError;
  return new C(wire.message, wire.issues === undefined ? {} : { issues: wire.issues });
}

/** Any thrown value as an AdaosError (non-Adaos errors become InternalError with the cause kept). */
export function asAdaosError(err: unknown): AdaosError {
  if (err instanceof AdaosError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(message, { cause: err });
}
