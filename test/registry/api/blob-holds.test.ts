// Every OCI handler that makes a blob live or says it exists does so inside the blob store's hold on the
// digest, so the garbage collector (which deletes under the same hold) can never slip in between a
// push's check or publication and its record. Each case stops the handler inside its record step (a
// RegistryMetadata call it makes there), asks for the collector's hold on the digest, makes one real
// file-system call, and only then lets the handler go on. A handler that went around the store's hold
// would let the collector in at once: a hold granted at once starts its work within promise callbacks,
// all of which run before a file-system call answers, so it would be in the log first. No timing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { ociClient } from '../../helpers/registry-server.ts';
import { ALICE, pushBlob, sha256, startRegistry, type TestRegistry } from './helpers.ts';

type MetadataStep = 'linkBlob' | 'putManifest' | 'blobSize';

/** The next call of `step` on the registry's metadata waits until `release()`; `entered` settles when it is made. */
function pauseNext(reg: TestRegistry, step: MetadataStep, log: string[]): { entered: Promise<void>; release(): void } {
  const metadata = reg.metadata as unknown as Record<MetadataStep, (...args: unknown[]) => Promise<unknown>>;
  const original = metadata[step];
  let entered!: () => void;
  let release!: () => void;
  const enteredOnce = new Promise<void>((resolve) => (entered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  metadata[step] = async (...args: unknown[]) => {
    metadata[step] = original;
    entered();
    await released;
    log.push('handler records');
    return original.apply(reg.metadata, args);
  };
  return { entered: enteredOnce, release };
}

interface Case {
  name: string;
  /** The metadata call the handler makes inside its hold. */
  step: MetadataStep;
  /** Pushes what the request needs; answers the request to send and the digest the collector wants. */
  prepare(reg: TestRegistry): Promise<{ digest: string; send: () => Promise<Response>; status: number }>;
}

const CASES: Case[] = [
  {
    name: 'a monolithic upload (POST ?digest=) publishes and links the blob',
    step: 'linkBlob',
    prepare: async (reg) => {
      const bytes = randomBytes(2048);
      return { digest: sha256(bytes), status: 201, send: () => fetch(`${reg.url}/v2/team/mono/blobs/uploads/?digest=${sha256(bytes)}`, { method: 'POST', headers: ALICE, body: bytes }) };
    },
  },
  {
    name: 'finishing an upload session (PUT ?digest=) publishes and links the blob',
    step: 'linkBlob',
    prepare: async (reg) => {
      const bytes = randomBytes(2048);
      const started = await fetch(`${reg.url}/v2/team/session/blobs/uploads/`, { method: 'POST', headers: ALICE });
      assert.equal(started.status, 202);
      const location = new URL(started.headers.get('location')!, reg.url);
      location.searchParams.set('digest', sha256(bytes));
      return { digest: sha256(bytes), status: 201, send: () => fetch(location, { method: 'PUT', headers: { ...ALICE, 'content-type': 'application/octet-stream' }, body: bytes }) };
    },
  },
  {
    name: 'a cross-repository mount checks the blob is there and links it',
    step: 'linkBlob',
    prepare: async (reg) => {
      const digest = await pushBlob(reg.url, 'team/source', randomBytes(2048));
      return { digest, status: 201, send: () => fetch(`${reg.url}/v2/team/target/blobs/uploads/?mount=${digest}&from=team/source`, { method: 'POST', headers: ALICE }) };
    },
  },
  {
    name: 'a manifest PUT checks the blobs it references and records the manifest',
    step: 'putManifest',
    prepare: async (reg) => {
      const client = ociClient(reg.url, ALICE);
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: randomBytes(8).toString('hex') }));
      const layer = randomBytes(2048);
      await client.pushBlob('team/app', config);
      await client.pushBlob('team/app', layer);
      return { digest: sha256(layer), status: 201, send: () => client.putManifest('team/app', 'v1', client.manifestOf(config, [layer])) };
    },
  },
  {
    name: 'a blob HEAD checks the repository may see the blob and that its file is there',
    step: 'blobSize',
    prepare: async (reg) => {
      const digest = await pushBlob(reg.url, 'team/head', randomBytes(2048));
      return { digest, status: 200, send: () => fetch(`${reg.url}/v2/team/head/blobs/${digest}`, { method: 'HEAD', headers: ALICE }) };
    },
  },
];

describe('registry API: handlers hold the digest through the blob store (what garbage collection waits for)', function () {
  this.timeout(30_000);
  let reg: TestRegistry;
  beforeEach(async () => {
    reg = await startRegistry();
  });
  afterEach(async () => reg?.close());

  for (const { name, step, prepare } of CASES) {
    it(`${name} before the collector may hold the digest`, async () => {
      const { digest, send, status } = await prepare(reg);
      const log: string[] = [];
      const paused = pauseNext(reg, step, log);
      const answer = send();
      await paused.entered;
      // The collector's sweep of the digest, as gc/collector.ts asks for it.
      const collector = reg.blobs.withBlobsHeld([digest], async () => {
        log.push('collector holds');
      });
      await stat(reg.blobs.root); // one real file-system round trip
      paused.release();
      assert.equal((await answer).status, status);
      await collector;
      assert.deepEqual(log, ['handler records', 'collector holds']);
    });
  }
});
