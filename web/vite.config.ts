// Vite build and Vitest configuration of the roomcast web client.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Relative asset URLs, so dist/ works wherever roomcast-signal --static mounts it.
  base: './',
  // esbuild compiles TSX itself; no React plugin (and its Babel tree) is needed.
  esbuild: { jsx: 'automatic' },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: {
    // `npm run dev` talks to a room server on :8080 through the dev server.
    proxy: { '/ws': { target: 'ws://127.0.0.1:8080', ws: true } },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
