// `source`: the client's IP decides the server, with weighted rendezvous (highest random weight)
// hashing: every server scores weight / -ln(h(server, client)) with h uniform in (0, 1), and the highest
// score wins. A client lands on the same server as long as that server is a candidate; adding or removing
// a server moves only the clients it wins or had (HAProxy's `hash-type consistent` promise), and weights
// hold in proportion. Stateless: nothing to keep across apply().
import { createHash } from 'node:crypto';
import type { Balancer, Candidate } from './types.ts';

/** A uniform number in (0, 1) from the server and the client: 48 bits of SHA-256, off both ends. */
export function rendezvousHash(serverId: string, clientAddress: string): number {
  const digest = createHash('sha256').update(serverId).update('\0').update(clientAddress).digest();
  return (digest.readUIntBE(0, 6) + 0.5) / 2 ** 48;
}

/** The server's score for the client: larger wins. */
export function rendezvousScore(serverId: string, weight: number, clientAddress: string): number {
  return weight / -Math.log(rendezvousHash(serverId, clientAddress));
}

export class SourceHashBalancer implements Balancer {
  pick<T extends Candidate>(candidates: readonly T[], clientAddress: string): T | undefined {
    let best: T | undefined;
    let bestScore = -Infinity;
    for (const candidate of candidates) {
      const score = rendezvousScore(candidate.id, candidate.weight, clientAddress);
      if (score > bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    return best;
  }

  retain(): void {}
}
