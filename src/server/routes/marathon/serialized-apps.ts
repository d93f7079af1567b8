// Each app's Marathon JSON kept as the text it was last sent as, until the app or one of its tasks
// changes: GET /v2/apps?embed=apps.tasks of 1,000 apps and 10,000 tasks spent most of its time building
// and stringifying objects for apps that had not changed since the last request (bench/README.md,
// "Listing 10,000 instances"). A task's row version moves on each change of it (state, health, kill),
// an app's version on each change of its definition, so together they say when the text is stale.
import type { AppView } from '../../../apps/index.ts';
import { marathonApp, type AppEmbed } from './json.ts';

export class SerializedApps {
  private readonly byApp = new Map<string, { key: string; json: string }>();

  /**
   * `{"apps": [...]}` of these apps with these embeds, each app's text from the cache when nothing it
   * shows has changed. `complete`: the views are every app, so the cache drops the apps not among them.
   */
  body(views: readonly AppView[], embeds: ReadonlySet<AppEmbed>, complete: boolean): string {
    const embedsKey = [...embeds].sort().join(',');
    if (complete) {
      const ids = new Set(views.map((view) => view.definition.id));
      for (const cacheKey of this.byApp.keys()) if (!ids.has(cacheKey.slice(0, cacheKey.indexOf('\n')))) this.byApp.delete(cacheKey);
    }
    return `{"apps":[${views.map((view) => this.json(view, embeds, `${view.definition.id}\n${embedsKey}`)).join(',')}]}`;
  }

  private json(view: AppView, embeds: ReadonlySet<AppEmbed>, cacheKey: string): string {
    const key = fingerprint(view, embeds);
    const cached = this.byApp.get(cacheKey);
    if (cached?.key === key) return cached.json;
    const json = JSON.stringify(marathonApp(view, embeds));
    this.byApp.set(cacheKey, { key, json });
    return json;
  }
}

function fingerprint(view: AppView, embeds: ReadonlySet<AppEmbed>): string {
  const failure = embeds.has('lastTaskFailure') && view.lastTaskFailure ? `${view.lastTaskFailure.taskId}@${view.lastTaskFailure.timestamp}` : '';
  let key = `${view.version}|${view.lastConfigChangeAt}|${view.deployments.join(',')}|${failure}|`;
  for (const task of view.tasks) key += `${task.id}.${task.version},`;
  return key;
}
