// Builds the dashboard into the Python package, where `servicekpi serve` mounts it at /.
// The output is committed, so running the server never needs node or npm.
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
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
