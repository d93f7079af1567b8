// The web frontend (src/web/: plain HTML, CSS and JavaScript, no build) at /ui/, read once at start.
// The pages are public; everything they show comes from the admin API with the token the person
// signs in with (kept in the browser's session storage).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { Context } from 'koa';

const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

export function webUiRoutes(): Router {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(WEB_DIR)) {
    const type = TYPES[path.extname(name)];
    if (type) files.set(name, { type, body: readFileSync(path.join(WEB_DIR, name)) });
  }
  const router = new Router();
  router.get('/', (ctx) => ctx.redirect('/ui/'));
  const serve = (name: string, ctx: Context): void => {
    // Only the files read at start: a name from the URL never reaches the filesystem.
    const file = files.get(name);
    if (!file) return;
    ctx.type = file.type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'");
    ctx.body = file.body;
  };
  // Also matches /ui (routes ignore a trailing slash), which must become /ui/ for the relative paths.
  router.get('/ui/', (ctx) => (ctx.path === '/ui' ? ctx.redirect('/ui/') : serve('index.html', ctx)));
  router.get('/ui/:file', (ctx) => serve(ctx.params.file!, ctx));
  return router;
}
