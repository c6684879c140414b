// The console's build: web/ -> web/dist, served by the Gantry server at `/`. Everything ships in
// the build (no CDN, no web fonts); the terminal, the charts and the YAML library load lazily.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1024,
  },
  logLevel: 'warn',
});
