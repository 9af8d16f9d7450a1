/// <reference types="vitest/config" />
// The app is built into the Python package (src/legato/web_static), which `legato server`
// serves at `/`; `npm run dev` serves it with hot reload and forwards /api to a running server.
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";

const outDir = fileURLToPath(new URL("../src/legato/web_static", import.meta.url));
const apiTarget = process.env.LEGATO_URL ?? "http://127.0.0.1:8080";

// The app's pages forbid inline styles (Content-Security-Policy style-src 'self', docs/web.md).
// bpmn-js-properties-panel builds its two containers from HTML with a style attribute, which
// the browser refuses (and reports); the same rules are in styles.css (.bio-properties-panel-*).
// A version that changes these strings fails the browser tests' check for CSP reports.
const INLINE_STYLES: Record<string, string> = {
  '<div style="height: 100%" tabindex="-1" class="bio-properties-panel-container">':
    '<div tabindex="-1" class="bio-properties-panel-container">',
  '<div style="flex: none; height: auto" class="bio-properties-panel bio-theme-parent bio-properties-panel-header-container">':
    '<div class="bio-properties-panel bio-theme-parent bio-properties-panel-header-container">',
};

function withoutInlineStyles(): Plugin {
  return {
    name: "legato-without-inline-styles",
    transform(code, id) {
      if (!id.includes("bpmn-js-properties-panel")) return null;
      let changed = code;
      for (const [inline, plain] of Object.entries(INLINE_STYLES)) changed = changed.split(inline).join(plain);
      return changed === code ? null : { code: changed, map: null };
    },
  };
}

export default defineConfig({
  plugins: [react(), withoutInlineStyles()],
  base: "/",
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
  },
  server: { proxy: { "/api": { target: apiTarget, changeOrigin: false } } },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
