// What is measured the same way on Gantry and on the peer (Buildbot): only what the client and the
// steps' own shells see, since Buildbot's records keep whole seconds. The webhook burst (answers,
// latency, what a redelivery does), webhook → the first step's shell started, and a pipeline of N
// steps each appending its shell's start time (`date +%s%N`) to a file: the step-to-step period.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { waitFor } from './gantry.ts';
import type { BenchRepo } from './repo.ts';
import { burst, delivery, post, pushBody, type Answer } from './webhook.ts';

export interface PeerTarget {
  name: string;
  /** The webhook endpoint (full URL). */
  endpoint: string;
  secret: string;
  /** The status a push that starts a build is answered with. */
  acceptedStatus: number;
  /** Resolves once the build/run of `after` on `pipeline` has ended. */
  awaitEnd(pipeline: 'first-step' | 'marks', after: string, deliveryId: string): Promise<void>;
  /** How many builds/changes the peer recorded so far (to see what a redelivery did), if it can say. */
  recordedSoFar?(): Promise<number>;
}

export interface ComparedBurst {
  pushes: Answer[];
  redelivery: Answer[];
  deleted: Answer[];
  /** Records added by the redelivery (Buildbot: changes; Gantry: deliveries), when known. */
  addedByRedelivery: number | null;
}

export interface ComparedFirstStep {
  sentAt: number;
  answerMs: number;
  shellStarted: number;
}

export interface ComparedMarks {
  sentAt: number;
  marks: number[];
}

export interface PeerContext {
  repo: BenchRepo;
  marksDir: string;
  burst: number;
  concurrency: number;
}

/** The marks file a step writes (ms since the epoch, one line per shell). */
export function readMarks(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => Number(l.trim()) / 1e6);
}

/**
 * The first burst a freshly started server gets: deletions of `warm/N` (recorded, nothing built), as
 * many as `--warm-up` says, `concurrency` at a time. A CI server that has been up a while has answered
 * thousands of deliveries, so its code is compiled (V8's optimizing tiers kick in after thousands of
 * calls): the measured bursts come after this one, and its own figures are shown as the cold server's.
 */
export async function warmUpBurst(t: Pick<PeerTarget, 'endpoint' | 'secret'>, c: PeerContext, count: number): Promise<{ answers: Answer[]; wallMs: number }> {
  const { repo } = c;
  const deletions = Array.from({ length: count }, (_, i) => delivery(pushBody({ fullName: repo.fullName, cloneUrl: repo.cloneUrl, ref: `refs/heads/warm/${i}`, before: repo.main, after: repo.main, deleted: true })));
  const result = await burst(t.endpoint, t.secret, deletions, c.concurrency);
  const refused = result.answers.filter((a) => a.status < 200 || a.status >= 300);
  if (refused.length > 0) throw new Error(`warm-up burst: ${refused.length} deliveries answered ${refused[0]!.status} ${JSON.stringify(refused[0]!.body)}`);
  return result;
}

/** Burst of pushes to `burst/N` (no builder or pipeline wants them), the same ids again, then deletions. */
export async function comparedBurst(t: PeerTarget, c: PeerContext): Promise<ComparedBurst> {
  const { repo } = c;
  const pushes = Array.from({ length: c.burst }, (_, i) => delivery(pushBody({ fullName: repo.fullName, cloneUrl: repo.cloneUrl, ref: `refs/heads/burst/${i}`, before: null, after: repo.main })));
  const answered = await burst(t.endpoint, t.secret, pushes, c.concurrency);
  const before = (await t.recordedSoFar?.()) ?? null;
  const again = await burst(t.endpoint, t.secret, pushes, c.concurrency);
  const after = (await t.recordedSoFar?.()) ?? null;
  const deletions = Array.from({ length: c.burst }, (_, i) => delivery(pushBody({ fullName: repo.fullName, cloneUrl: repo.cloneUrl, ref: `refs/heads/burst/${i}`, before: repo.main, after: repo.main, deleted: true })));
  const deleted = await burst(t.endpoint, t.secret, deletions, c.concurrency);
  return { pushes: answered.answers, redelivery: again.answers, deleted: deleted.answers, addedByRedelivery: before === null || after === null ? null : after - before };
}

/** N pushes of a new commit to `latency`, one at a time: sent → the first step's shell started. */
export async function comparedFirstStep(t: PeerTarget, c: PeerContext, pushes: number, markName: (after: string) => string): Promise<ComparedFirstStep[]> {
  const samples: ComparedFirstStep[] = [];
  const agent = new http.Agent({ keepAlive: false });
  for (let i = 0; i < pushes; i++) {
    const { before, after } = await c.repo.pushCommit('latency');
    const d = delivery(pushBody({ fullName: c.repo.fullName, cloneUrl: c.repo.cloneUrl, ref: 'refs/heads/latency', before, after }));
    const answer = await post(t.endpoint, t.secret, d, agent);
    if (answer.status !== t.acceptedStatus) throw new Error(`${t.name}: push ${i} answered ${answer.status} ${JSON.stringify(answer.body)}`);
    const mark = path.join(c.marksDir, markName(after));
    await waitFor(() => readMarks(mark).length > 0, 60_000, `${t.name}: the first step of push ${i}`, 2);
    await t.awaitEnd('first-step', after, d.id);
    samples.push({ sentAt: answer.sentAt, answerMs: answer.ms, shellStarted: readMarks(mark)[0]! });
    await new Promise((r) => setTimeout(r, 300));
  }
  agent.destroy();
  return samples;
}

/** R pushes to `marks`, one at a time: the N steps' shell start times. */
export async function comparedMarks(t: PeerTarget, c: PeerContext, runs: number, steps: number, markName: (after: string) => string): Promise<ComparedMarks[]> {
  const samples: ComparedMarks[] = [];
  for (let r = 0; r < runs; r++) {
    const { before, after } = await c.repo.pushCommit('marks');
    const d = delivery(pushBody({ fullName: c.repo.fullName, cloneUrl: c.repo.cloneUrl, ref: 'refs/heads/marks', before, after }));
    const answer = await post(t.endpoint, t.secret, d, new http.Agent());
    if (answer.status !== t.acceptedStatus) throw new Error(`${t.name}: marks push ${r} answered ${answer.status} ${JSON.stringify(answer.body)}`);
    await t.awaitEnd('marks', after, d.id);
    const marks = readMarks(path.join(c.marksDir, markName(after)));
    if (marks.length !== steps) throw new Error(`${t.name}: marks run ${r} wrote ${marks.length} marks, expected ${steps}`);
    samples.push({ sentAt: answer.sentAt, marks });
    await new Promise((r) => setTimeout(r, 300));
  }
  return samples;
}

/** Step-to-step periods (ms) between consecutive shells of each run. */
export function periods(samples: readonly ComparedMarks[]): number[] {
  return samples.flatMap((s) => s.marks.slice(1).map((m, i) => m - s.marks[i]!));
}
