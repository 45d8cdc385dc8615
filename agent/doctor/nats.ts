/**
 * nats-server: a hub runs one as a leaf node of the root when the binary is present, and falls
 * back to the embedded MQTT broker for members when it is not. A member never needs it.
 */
import { COMMAND_TIMEOUT_MS, firstLine, ok, warn, type Check } from "./check.js";

const INSTALL = "sudo apt-get install nats-server";

export const natsCheck: Check = {
  id: "nats",
  title: "nats-server is installed (hub NATS leaf mode)",
  run: async ({ config, system }) => {
    const r = await system.run("nats-server", ["--version"], COMMAND_TIMEOUT_MS);
    const hub = config.role === "hub";
    if (r.kind === "not-found") {
      if (!hub) return ok("nats-server not installed (not needed on a member)");
      return warn("nats-server not found — MQTT-only: members connect over the embedded MQTT broker", `install nats-server for NATS leaf mode (${INSTALL})`);
    }
    if (r.kind === "exited" && r.code === 0) {
      // "nats-server: v2.10.18"
      const version = /v?(\d+\.\d+\.\d+\S*)/.exec(r.stdout)?.[1];
      return ok(version === undefined ? `nats-server found: ${firstLine(r.stdout)}` : `nats-server ${version}${hub ? " (NATS leaf mode available)" : ""}`);
    }
    const why =
      r.kind === "timeout" ? `did not answer within ${COMMAND_TIMEOUT_MS / 1000} s`
      : r.kind === "error" ? r.message
      : `exited with ${r.code}: ${firstLine(r.stderr) || firstLine(r.stdout)}`;
    const problem = `nats-server is installed but \`nats-server --version\` ${r.kind === "exited" ? why : `failed: ${why}`}`;
    return hub ? warn(`${problem} — MQTT-only until it works`, `reinstall it (sudo apt-get install --reinstall nats-server)`) : ok(`${problem} (not needed on a member)`);
  },
};
