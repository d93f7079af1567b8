// `npm run build` (also run by `npm ci`/`npm install` through `prepare`, and by `npm test`): compiles
// src/ to dist/ with tsc, copies the plain JavaScript the sources load at run time (the launcher
// helper, the web frontend's files), and stamps the build with the time it started. bin/gantry runs dist/ only while no source
// file is newer than that stamp, so an edit is never run from a stale build.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const startedAt = new Date();
rmSync(dist, { recursive: true, force: true });
// The package's own bin (its exports do not list it).
const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
for (const file of ['shared/launcher/helper.mjs', ...readdirSync(path.join(root, 'src', 'web')).map((name) => `web/${name}`)]) {
  mkdirSync(path.dirname(path.join(dist, file)), { recursive: true });
  copyFileSync(path.join(root, 'src', file), path.join(dist, file));
}
const stamp = path.join(dist, '.built');
writeFileSync(stamp, `${startedAt.toISOString()}\n`);
utimesSync(stamp, startedAt, startedAt);
