/**
 * What a display driver is: a Driver named "display" that provides capability://display.play for
 * the formats it can show, and play() that puts a titled video up and answers once it is shown.
 * Rules: play() checks here (admitPlay), before any device work, its request (http(s) URL,
 * non-empty title and play_id), its signal and that the driver is up; a new play() replaces the
 * previous one; the answer says how long the device took (ack_ms, from the play() call to the
 * device's ack) and who showed it.
 */
import type { Driver, DriverState } from "../../abi/driver.js";

export const DISPLAY_CAPABILITY = "capability://display.play";

export interface PlayRequest {
  readonly url: string;
  readonly title: string;
  readonly poster?: string;
  /** The caller's id of this playback (a plan step's run); acks carry it back. */
  readonly play_id: string;
}

export interface PlayAck {
  /** Milliseconds from the play() call to the device's ack. */
  readonly ack_ms: number;
  /** Which device showed it (e.g. "kiosk page 2 (127.0.0.1)", "mpv pid 4242"). */
  readonly shown_by: string;
}

export interface DisplayDriver extends Driver {
  play(req: PlayRequest, signal?: AbortSignal): Promise<PlayAck>;
  /**
   * Whether a play() now could show anything: started, and for a kiosk a page open. The agent
   * reports display.play down while not, so the resolver picks another screen.
   */
  ready(): boolean;
}

const MAX_TITLE = 200;
const MAX_ID = 128;
const MAX_URL = 2048;

/** The request, checked; throws an Error naming the bad field. */
export function checkPlayRequest(req: PlayRequest): PlayRequest {
  checkUrl(req.url, "url");
  if (req.poster !== undefined) checkUrl(req.poster, "poster");
  if (typeof req.title !== "string" || req.title.trim().length === 0 || req.title.length > MAX_TITLE) {
    throw new Error(`play: title must be a non-empty string of at most ${MAX_TITLE} characters`);
  }
  if (typeof req.play_id !== "string" || req.play_id.length === 0 || req.play_id.length > MAX_ID) {
    throw new Error(`play: play_id must be a non-empty string of at most ${MAX_ID} characters`);
  }
  return req;
}

function checkUrl(value: unknown, field: string): void {
  if (typeof value !== "string" || value.length > MAX_URL) throw new Error(`play: ${field} must be an http(s) URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`play: ${field} ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`play: ${field} must be http(s), got ${url.protocol}`);
}

/**
 * What every play() checks first, in this order: the request (checkPlayRequest), the signal (throws
 * its reason when aborted) and that the driver, in `state`, is up. Returns the checked request.
 */
export function admitPlay(req: PlayRequest, signal: AbortSignal | undefined, state: DriverState): PlayRequest {
  const item = checkPlayRequest(req);
  signal?.throwIfAborted();
  if (state !== "up") throw new Error("the display driver is not started");
  return item;
}

/** Rejects with the signal's reason when it aborts; the returned function detaches. */
export function onAbort(signal: AbortSignal | undefined, fn: (reason: unknown) => void): () => void {
  if (signal === undefined) return () => undefined;
  const listener = (): void => fn(signal.reason);
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}
