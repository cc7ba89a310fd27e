import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The client is served by the renkei binary (same origin as the API and /ws); `npm run dev`
// proxies them to a local server on :8080.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No inline scripts anywhere: the Content-Security-Policy is `script-src 'self'`.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    target: "es2022",
    // The service worker is its own entry at the root (`/sw.js`, so its scope is the whole app),
    // one file with no imports (src/sw/notice.ts is imported by nothing else).
    rollupOptions: {
      input: { index: "index.html", sw: "src/sw/sw.ts" },
      output: {
        entryFileNames: (chunk) => (chunk.name === "sw" ? "sw.js" : "assets/[name]-[hash].js"),
      },
    },
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/ws": { target: "ws://127.0.0.1:8080", ws: true },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
