/**
 * The RFC 6962 / RFC 9162 Merkle tree over record hashes: the tree Certificate Transparency
 * logs use, so checkpoints, inclusion proofs and consistency proofs can be checked with any
 * CT-style verifier.
 *
 * Leaf inputs are the records' hashes as 32 raw bytes, in `seq` order (record `seq` is leaf
 * `seq - 1`). `leaf = SHA-256(0x00 || d)`, `node = SHA-256(0x01 || left || right)`, the
 * empty tree's root is `SHA-256("")`, and a tree of `n > 1` leaves splits at the largest
 * power of two below `n` (RFC 6962 §2.1).
 */
import { createHash } from 'node:crypto';

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

/** The leaf hash of one leaf input. */
export function leafHash(d: Buffer): Buffer {
  return createHash('sha256').update(LEAF).update(d).digest();
}

/** The hash of an interior node. */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

/** Root of the empty tree. */
export const EMPTY_ROOT = createHash('sha256').digest();

/**
 * The right edge of a tree that grows one leaf at a time: the roots of its perfect subtrees,
 * largest first (one per bit set in the size). Appending costs O(1) hashes amortised and the
 * root O(log n), so a checkpointer can carry it from one checkpoint to the next and a
 * verifier can stream a million records through it.
 */
export class MerkleFrontier {
  private readonly nodes: Buffer[] = [];
  private readonly heights: number[] = [];
  private count = 0;

  /** Leaves appended so far. */
  get size(): number {
    return this.count;
  }

  /** Appends one leaf input (a record hash, raw bytes). */
  push(d: Buffer): void {
    let h = leafHash(d);
    let height = 0;
    while (this.heights.length && this.heights[this.heights.length - 1] === height) {
      h = nodeHash(this.nodes.pop()!, h);
      this.heights.pop();
      height++;
    }
    this.nodes.push(h);
    this.heights.push(height);
    this.count++;
  }

  /** The tree head (RFC 6962 MTH) of the leaves appended so far. */
  root(): Buffer {
    if (!this.nodes.length) return EMPTY_ROOT;
    let r = this.nodes[this.nodes.length - 1];
    for (let i = this.nodes.length - 2; i >= 0; i--) r = nodeHash(this.nodes[i], r);
    return r;
  }

  /** The subtree roots, hex, largest first: what `MerkleFrontier.restore` takes back. */
  toJSON(): string[] {
    return this.nodes.map((n) => n.toString('hex'));
  }

  /**
   * The frontier of a tree of `size` leaves from its subtree roots (`toJSON`).
   *
   * @throws Error when the number of roots does not fit the size
   */
  static restore(size: number, roots: readonly string[]): MerkleFrontier {
    const f = new MerkleFrontier();
    const heights: number[] = [];
    for (let bit = 52; bit >= 0; bit--) if (Math.floor(size / 2 ** bit) % 2 === 1) heights.push(bit);
    if (heights.length !== roots.length) throw new Error(`a tree of ${size} leaves has ${heights.length} subtree roots, not ${roots.length}`);
    roots.forEach((r, i) => { f.nodes.push(Buffer.from(r, 'hex')); f.heights.push(heights[i]); });
    f.count = size;
    return f;
  }
}

/** MTH of `leaves` (raw record hashes). */
export function merkleRoot(leaves: readonly Buffer[]): Buffer {
  return subtreeRoot(leaves, 0, leaves.length);
}

/** Largest power of two strictly below `n` (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function subtreeRoot(leaves: readonly Buffer[], from: number, to: number): Buffer {
  const n = to - from;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leafHash(leaves[from]);
  const k = splitPoint(n);
  return nodeHash(subtreeRoot(leaves, from, from + k), subtreeRoot(leaves, from + k, to));
}

/**
 * The audit path of leaf `index` in the tree of all `leaves` (RFC 6962 §2.1.1 PATH), from the
 * leaf's sibling up to the root's child.
 *
 * @throws RangeError when `index` is not a leaf of the tree
 */
export function inclusionProof(index: number, leaves: readonly Buffer[]): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RangeError(`leaf ${index} is not in a tree of ${leaves.length}`);
  const path: Buffer[] = [];
  const walk = (m: number, from: number, to: number): void => {
    const n = to - from;
    if (n <= 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, from, from + k);
      path.push(subtreeRoot(leaves, from + k, to));
    } else {
      walk(m - k, from + k, to);
      path.push(subtreeRoot(leaves, from, from + k));
    }
  };
  walk(index, 0, leaves.length);
  return path;
}

/**
 * Whether `proof` shows that leaf input `d` is leaf `index` of the tree of `size` leaves
 * whose root is `root` (RFC 9162 §2.1.3.2).
 */
export function verifyInclusion(index: number, size: number, d: Buffer, proof: readonly Buffer[], root: Buffer): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash(d);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/**
 * The proof that the tree of the first `m` leaves is a prefix of the tree of all `leaves`
 * (RFC 6962 §2.1.2 PROOF). Empty when `m` is 0 or the whole tree.
 *
 * @throws RangeError when `m` is larger than the tree
 */
export function consistencyProof(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (!Number.isInteger(m) || m < 0 || m > leaves.length) throw new RangeError(`a tree of ${leaves.length} has no prefix of ${m}`);
  if (m === 0 || m === leaves.length) return [];
  const proof: Buffer[] = [];
  const sub = (mm: number, from: number, to: number, complete: boolean): void => {
    const n = to - from;
    if (mm === n) {
      if (!complete) proof.push(subtreeRoot(leaves, from, to));
      return;
    }
    const k = splitPoint(n);
    if (mm <= k) {
      sub(mm, from, from + k, complete);
      proof.push(subtreeRoot(leaves, from + k, to));
    } else {
      sub(mm - k, from + k, to, false);
      proof.push(subtreeRoot(leaves, from, from + k));
    }
  };
  sub(m, 0, leaves.length, true);
  return proof;
}

/**
 * Whether `proof` shows that the tree of `size1` leaves with root `root1` is a prefix of the
 * tree of `size2` leaves with root `root2` (RFC 9162 §2.1.4.2).
 */
export function verifyConsistency(size1: number, size2: number, root1: Buffer, root2: Buffer, proof: readonly Buffer[]): boolean {
  if (!Number.isInteger(size1) || !Number.isInteger(size2) || size1 < 0 || size2 < size1) return false;
  if (size1 === size2) return proof.length === 0 && root1.equals(root2);
  if (size1 === 0) return proof.length === 0;
  if (!proof.length) return false;
  const path = [...proof];
  // When size1 is a power of two, its root is the first node the verifier starts from.
  if (Number.isInteger(Math.log2(size1))) path.unshift(root1);
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(root1) && sr.equals(root2);
}
