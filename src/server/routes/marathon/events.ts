// GET /v2/events: the apps' events as Server-Sent Events, as Marathon's event stream serves them
// (core/event/impl/stream/HttpEventStreamServlet.scala, HttpEventStreamHandleActor.scala; events.raml):
//
//   event: <eventType>     e.g. status_update_event, health_status_changed_event, deployment_info,
//   data: <json>           deployment_step_success, deployment_success, deployment_failed, api_post_event
//   : heartbeat            a comment after 15 s without an event, so proxies keep the connection
//
// `?event_type=X` (repeatable; a comma-separated list is read too) keeps only those types. As in
// Marathon, a client attaching publishes `event_stream_attached` (and leaving, `event_stream_detached`)
// on the bus, so every client sees it, the new one first of all. Events are written in the order they
// happen; a client that falls MAX_BEHIND events behind is dropped, as Marathon drops a slow consumer,
// rather than buffered without bound.
import type Router from '@koa/router';
import type { AppsService, MarathonEvent } from '../../../apps/index.ts';
import { SseStream, type SseOptions } from '../../sse.ts';
import { values } from './request.ts';

/** Events a client may be behind before it is dropped (Marathon: event_stream_max_outstanding_messages, 50). */
export const MAX_BEHIND = 1000;

export function marathonEventRoutes(router: Router, apps: AppsService, sseOptions: SseOptions = {}): void {
  router.get('/v2/events', async (ctx) => {
    const types = new Set(values(ctx, 'event_type', true));
    const remoteAddress = ctx.ip;
    const sse = SseStream.open(ctx, sseOptions);
    const behind: MarathonEvent[] = [];
    let writing = false;

    const write = async (): Promise<void> => {
      if (writing) return;
      writing = true;
      try {
        for (let event = behind.shift(); event !== undefined; event = behind.shift()) {
          if (!(await sse.send({ event: event.eventType, data: JSON.stringify(event) }))) return;
        }
      } finally {
        writing = false;
      }
    };
    const onEvent = (event: MarathonEvent): void => {
      if (types.size > 0 && !types.has(event.eventType)) return;
      if (behind.length >= MAX_BEHIND) {
        sse.close(); // a slow consumer: dropped
        return;
      }
      behind.push(event);
      void write();
    };

    apps.events.on('event', onEvent);
    apps.events.publish('event_stream_attached', { remoteAddress });
    try {
      // Held until the client goes (or the server closes its connection): the request is in flight till then.
      await new Promise<void>((resolve) => {
        if (sse.signal.aborted) return resolve();
        sse.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      apps.events.off('event', onEvent);
      sse.close();
      apps.events.publish('event_stream_detached', { remoteAddress });
    }
  });
}
