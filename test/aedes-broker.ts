/**
 * An in-process aedes broker for tests: loopback, port 0 (the OS picks), TCP_NODELAY on every
 * connection, closed after the test. kill() drops every connection at once (as a crashed broker
 * would) and start() brings a fresh broker (empty retained store) up on the same port.
 */
import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";

interface After {
  after(fn: () => void | Promise<void>): void;
}

export interface AedesBroker {
  readonly port: number;
  readonly url: string;
  /** The running broker instance (undefined while killed). */
  broker(): Aedes | undefined;
  kill(): Promise<void>;
  start(): Promise<void>;
}

export async function startAedes(t: After): Promise<AedesBroker> {
  let port = 0;
  let server: Server | undefined;
  let broker: Aedes | undefined;
  const sockets = new Set<Socket>();

  const start = async (): Promise<void> => {
    if (server !== undefined) throw new Error("aedes is already running");
    const b = await Aedes.createBroker();
    const s = createServer({ noDelay: true }, (socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      b.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    const addr = s.address();
    port = typeof addr === "object" && addr !== null ? addr.port : port;
    server = s;
    broker = b;
  };

  const kill = async (): Promise<void> => {
    const s = server;
    const b = broker;
    server = undefined;
    broker = undefined;
    if (s === undefined || b === undefined) return;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    await new Promise<void>((resolve) => b.close(() => resolve()));
  };

  t.after(kill);
  await start();
  return { port, url: `mqtt://127.0.0.1:${port}`, broker: () => broker, kill, start };
}
