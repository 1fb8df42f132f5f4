import { defineConfig } from 'vitest/config';

// The build goes to dist/, which ui/embed.go embeds into the expt binary.
// `npm run dev` proxies the API to a running `expt serve` (EXPT_URL).
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One chunk: the app is small and a single request beats a waterfall.
    chunkSizeWarningLimit: 400,
    // Fonts (KaTeX's) stay files: the server's CSP allows fonts from 'self' only, not data: URLs.
    assetsInlineLimit: (file: string) => (/\.(woff2?|ttf|otf)$/.test(file) ? false : undefined),
  },
  server: {
    proxy: { '/api': process.env.EXPT_URL ?? 'http://127.0.0.1:8080' },
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'jsdom',
  },
});
