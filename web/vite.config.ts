// Builds the web console into dist/web, which the control plane serves at `/`
// (src/interfaces/http/dashboard.ts). Run from the repository root: `npm run build`.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // Every browser that runs React 19 supports module preload; the polyfill is dead weight.
    modulePreload: { polyfill: false },
    // The layout engine (elkjs) is a separate, lazily loaded worker of ~1.6 MB: expected.
    chunkSizeWarningLimit: 2048,
  },
  server: {
    // `vite --config web/vite.config.ts` during development, against a running `baton up`.
    proxy: { '/v1': process.env.BATON_SERVER ?? 'http://127.0.0.1:7070' },
  },
});
