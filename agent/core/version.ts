/** The product version, read from package.json at build time (bundled as a JSON module). */
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
