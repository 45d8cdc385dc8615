/** The inbox contract against the in-memory inbox. */
import { inboxContract } from "./inbox-contract.js";
import { MemoryInbox } from "./memory-inbox.js";

inboxContract("memory", (t, window) => {
  const inbox = new MemoryInbox({ window });
  t.after(() => inbox.close());
  return inbox;
});
