/** server.listen as a promise that honours an AbortSignal, with failures that say what to do. */
import type { Server } from "node:net";
import { ConfigInvalidError, InternalError, PortInUseError } from "../core/errors.js";

export function listen(server: Server, host: string, port: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error("start aborted"));
    const done = (): void => {
      server.off("error", onError);
      signal.removeEventListener("abort", onAbort);
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      done();
      reject(listenError(err, host, port));
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

export function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  switch (err.code) {
    case "EADDRINUSE":
      return new PortInUseError(
        `the MQTT broker cannot listen on ${where}: address already in use (another MQTT broker such as mosquitto, or another hub?); ` +
          "stop it or pick another port (--mqtt-port, mqtt.port)",
        { cause: err },
      );
    case "EACCES":
      return new ConfigInvalidError(
        `the MQTT broker cannot listen on ${where}: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, pick another port (--mqtt-port)`,
        { cause: err },
      );
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ConfigInvalidError(`the MQTT broker cannot listen on ${where}: no such address on this machine; check mqtt.host (0.0.0.0 or an address of this host)`, {
        cause: err,
      });
    default:
      return new InternalError(`the MQTT broker cannot listen on ${where}: ${err.message}`, { cause: err });
  }
}
