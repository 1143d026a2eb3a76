// The console is served by verityd at /console/ (--console-dir), so every
// asset URL starts with /console/; routing is by URL hash (#/collections),
// so a static file server needs no rewrite rules. `npm run dev` proxies the
// API to a running verityd: VERITY_HTTP=http://127.0.0.1:PORT npm run dev.
import { defineConfig } from 'vite';

const target = process.env.VERITY_HTTP ?? 'http://127.0.0.1:7480';

export default defineConfig({
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 200 },
  server: { proxy: { '/v1': target, '/metrics': target } },
});
