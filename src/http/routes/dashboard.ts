import { readFileSync } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';

/** The page's files, beside the summary's code (the build copies them into dist/ next to it). */
const PAGE_DIRECTORY = path.join(__dirname, '..', '..', 'operations', 'dashboard');

/**
 * Scripts and styles from this server only, no inline code, no plugin, no frame around the page, and fetch to
 * this server only: the API key the operator types in stays in this tab's sessionStorage and goes out in the
 * Authorization header of the page's own requests.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  // The page's icon is an empty data: URL, so that the browser asks for no /favicon.ico.
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const FILES = {
  '/dashboard': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
} as const;

/**
 * `GET /dashboard`: the operators' live page. The page and its files hold no figure and no credential, so they
 * are served to anyone; everything they show comes from `GET /v1/operations/summary`, behind the API key.
 */
export function dashboardRoutes(): Router {
  const router = new Router({ sensitive: true });
  for (const [route, { file, type }] of Object.entries(FILES)) {
    const content = readFileSync(path.join(PAGE_DIRECTORY, file));
    router.get(route, (ctx) => {
      ctx.set('Content-Security-Policy', DASHBOARD_CSP);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.set('Cache-Control', 'no-cache');
      ctx.type = type;
      ctx.body = content;
    });
  }
  return router;
}
