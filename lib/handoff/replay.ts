/**
 * The single-use cache: the ids of envelopes this process imported, kept
 * until they expire, so an envelope imports once.
 *
 * - Time is the process clock: the wall clock read once at process start
 *   (performance.timeOrigin) plus the monotonic time since. A wall-clock step
 *   after start (NTP, an administrator, a VM resume) moves neither expiry nor
 *   pruning, so a step back cannot make a forgotten envelope valid again.
 * - Only live envelopes are recorded: an expired one is refused without
 *   touching the cache, and since the clock never goes back it stays refused.
 * - Ids are pruned in expiry order (a binary min-heap), not insertion order,
 *   so one long-lived id does not keep short-lived ones behind it.
 * - At most MAX_LIVE_ENVELOPES ids are held (envelopes live at most 24 h).
 *   When that many live envelopes were imported, the next is refused with
 *   SEC_E_INSUFFICIENT_MEMORY until some expire: refusing keeps the
 *   single-use promise, where evicting an id would let it import again.
 */

/** Upper bound on recorded ids (about 150 bytes each: ~10 MB). */
export const MAX_LIVE_ENVELOPES = 65_536;

/** What the cache says about an envelope. */
export type ClaimVerdict = 'claimed' | 'replayed' | 'expired' | 'full' | 'too-late';

/**
 * Expiries further ahead than this are refused ('too-late'): an envelope lives at most
 * 24 h, so one expiring later was dated in the future, and its id would hold a cache
 * slot for as long as the forger chose. Twice the lifetime leaves a day for the wall
 * clock to have stepped forward since this process started.
 */
export const MAX_EXPIRY_AHEAD_MS = 2 * 24 * 60 * 60 * 1000;

/** The process clock in ms since the epoch; tests replace it through replayClock. @internal */
export const replayClock = {
  now: (): number => performance.timeOrigin + performance.now(),
};

interface Entry {
  readonly id: string;
  readonly expiresAt: number;
}

const seen = new Set<string>();
/** Min-heap on expiresAt over the ids in `seen`. */
const heap: Entry[] = [];

function siftUp(i: number): void {
  const e = heap[i]!;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]!.expiresAt <= e.expiresAt) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = e;
}

function siftDown(i: number): void {
  const n = heap.length;
  const e = heap[i]!;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap[child + 1]!.expiresAt < heap[child]!.expiresAt) child++;
    if (heap[child]!.expiresAt >= e.expiresAt) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = e;
}

function popMin(): Entry {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length > 0) {
    heap[0] = last;
    siftDown(0);
  }
  return top;
}

/** Drop every id whose envelope expired: O(log n) per id dropped. */
function prune(now: number): void {
  while (heap.length > 0 && heap[0]!.expiresAt <= now) seen.delete(popMin().id);
}

/**
 * Claim an envelope id for one import. `expiresAt` is the envelope's expiry
 * (ms since the epoch). 'replayed': already imported here. 'expired': its time
 * is up on the process clock. 'full': MAX_LIVE_ENVELOPES live ids are held.
 * Only 'claimed' records the id.
 */
export function claimEnvelope(id: string, expiresAt: number): ClaimVerdict {
  const now = replayClock.now();
  prune(now);
  if (seen.has(id)) return 'replayed';
  if (!(expiresAt > now)) return 'expired';
  if (expiresAt - now > MAX_EXPIRY_AHEAD_MS) return 'too-late';
  if (seen.size >= MAX_LIVE_ENVELOPES) return 'full';
  seen.add(id);
  heap.push({ id, expiresAt });
  siftUp(heap.length - 1);
  return 'claimed';
}

/** How many ids the cache holds (tests bound memory with it). @internal */
export function replayCacheSize(): number {
  return seen.size;
}
