/** The Node.js running us: the packaged binary embeds Node 22; a checkout needs at least that. */
import { fail, ok, type Check } from "./check.js";

export const MIN_NODE_MAJOR = 22;

export const nodeRuntimeCheck: Check = {
  id: "node-runtime",
  title: `Node.js ≥ ${MIN_NODE_MAJOR}`,
  run: ({ system }) => {
    const major = Number(system.nodeVersion.split(".")[0]);
    if (major >= MIN_NODE_MAJOR) return Promise.resolve(ok(`Node.js ${system.nodeVersion}`));
    return Promise.resolve(
      fail(`Node.js ${system.nodeVersion} is older than ${MIN_NODE_MAJOR}`, `use the packaged binary (it embeds Node ${MIN_NODE_MAJOR}) or install Node ${MIN_NODE_MAJOR} to run from a checkout`),
    );
  },
};
