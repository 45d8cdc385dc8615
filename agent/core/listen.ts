/**
 * server.listen as a promise that honours an AbortSignal, with listen failures turned into errors
 * that say what to do. Every listener of the agent (HTTP API, MQTT broker) goes through here.
 */
import type { Server } from "node:net";
import { ConfigInvalidError, InternalError, PortInUseError } from "./errors.js";

/** Who is listening, for the messages: e.g. {who: "the MQTT broker", portFlag: "--mqtt-port", hostSetting: "mqtt.host"}. */
export interface Listener {
  /** Prefix of the message ("" for the API, the agent's main listener). */
  readonly who: string;
  readonly portFlag: string;
  readonly hostSetting: string;
  /** What else may hold the port, for the hint. */
  readonly usualSuspect?: string;
}

export function listen(server: Server, host: string, port: number, signal: AbortSignal, who: Listener): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error("start aborted"));
    const done = (): void => {
      server.off("error", onError);
      signal.removeEventListener("abort", onAbort);
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      done();
      reject(listenError(err, host, port, who));
    };
    const onAbort = (): void => {
      done();
      server.close();
      reject(signal.reason instanceof Error ? signal.reason : new Error("start aborted"));
    };
    server.once("error", onError);
    signal.addEventListener("abort", onAbort, { once: true });
    server.listen({ host, port }, () => {
      done();
      resolve();
    });
  });
}

export function listenError(err: NodeJS.ErrnoException, host: string, port: number, who: Listener): Error {
  const where = `${who.who === "" ? "" : `${who.who} `}cannot listen on ${host.includes(":") ? `[${host}]` : host}:${port}`;
  const suspect = who.usualSuspect === undefined ? "" : ` (${who.usualSuspect}?)`;
  switch (err.code) {
    case "EADDRINUSE":
      return new PortInUseError(`${where}: address already in use${suspect}; stop the other process or pick another port (${who.portFlag})`, { cause: err });
    case "EACCES":
      return new ConfigInvalidError(`${where}: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, pick another port (${who.portFlag})`, { cause: err });
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ConfigInvalidError(`${where}: no such address on this machine; check ${who.hostSetting} (127.0.0.1, 0.0.0.0 or an address of this host)`, { cause: err });
    default:
      return new InternalError(`${where}: ${err.message}`, { cause: err });
  }
}
