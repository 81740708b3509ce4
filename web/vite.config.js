// Builds the dashboard into the Python package, where `servicekpi serve` mounts it at /.
// The output is committed, so running the server never needs node or npm.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));
const SOURCES = ["index.html", "vite.config.js", "package-lock.json", "src"];

/** sha256 over every source file (sorted path, NUL, bytes, NUL): tests/server/test_dashboard_e2e.py
 * recomputes it to catch a web/ change committed without a rebuild. */
export function sourcesHash() {
  const files = [];
  const walk = (p) => (statSync(p).isDirectory() ? readdirSync(p).forEach((f) => walk(join(p, f))) : files.push(p));
  SOURCES.forEach((s) => walk(join(here, s)));
  const h = createHash("sha256");
  for (const f of files.map((f) => relative(here, f).split(sep).join("/")).sort()) {
    h.update(f + "\0");
    h.update(readFileSync(join(here, f)));
    h.update("\0");
  }
  return h.digest("hex");
}

const buildInfo = {
  name: "build-info",
  generateBundle() {
    const info = { sources_sha256: sourcesHash(), sources: SOURCES, built_by: "web/build.sh" };
    this.emitFile({ type: "asset", fileName: "build-info.json", source: JSON.stringify(info, null, 2) + "\n" });
  },
};

export default defineConfig({
  base: "./",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  plugins: [buildInfo],
  build: {
    outDir: "../src/servicekpi/server/static",
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` proxies the API to a running `servicekpi serve` (default port 8000).
    proxy: { "/api": process.env.SERVICEKPI_API || "http://127.0.0.1:8000" },
  },
  test: { environment: "node", include: ["test/**/*.test.js"] },
});
