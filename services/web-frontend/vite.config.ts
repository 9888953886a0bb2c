import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// `npm run dev` proxies the gateway like nginx.conf does, so the browser sees one origin.
const gateway = process.env.WEB_GATEWAY_URL ?? "http://127.0.0.1:8090";

export default defineConfig({
  plugins: [svelte()],
  server: {
    port: Number(process.env.WEB_PORT ?? 8080),
    proxy: { "/api": gateway, "/v1": gateway },
  },
  build: { outDir: "dist", sourcemap: false },
  test: {
    include: ["tests/**/*.test.{ts,mjs}"],
    environment: "node",
  },
});
