import { randomBytes } from 'node:crypto';
import {
  consistencyProof, EMPTY_ROOT, inclusionProof, MerkleFrontier, merkleRoot, verifyConsistency, verifyInclusion,
} from '../../src/audit/merkle';

/** The inputs and tree heads of Certificate Transparency's reference tests (RFC 6962). */
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('RFC 6962 Merkle tree', () => {
  it('gives the reference tree heads, by recursion and by the frontier', () => {
    expect(merkleRoot([]).equals(EMPTY_ROOT)).toBe(true);
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const f = new MerkleFrontier();
    CT_LEAVES.forEach((d, i) => {
      f.push(d);
      expect(merkleRoot(CT_LEAVES.slice(0, i + 1)).toString('hex')).toBe(CT_ROOTS[i]);
      expect(f.root().toString('hex')).toBe(CT_ROOTS[i]);
    });
  });

  it('restores a frontier from its subtree roots', () => {
    const leaves = Array.from({ length: 45 }, () => randomBytes(32));
    const f = new MerkleFrontier();
    leaves.slice(0, 21).forEach((d) => f.push(d));
    const g = MerkleFrontier.restore(21, f.toJSON());
    leaves.slice(21).forEach((d) => g.push(d));
    expect(g.root().equals(merkleRoot(leaves))).toBe(true);
    expect(() => MerkleFrontier.restore(23, f.toJSON())).toThrow();
  });

  it('proves and checks inclusion of every leaf of trees up to 40 leaves, and refuses altered proofs', () => {
    const leaves = Array.from({ length: 40 }, () => randomBytes(32));
    for (let n = 1; n <= leaves.length; n++) {
      const tree = leaves.slice(0, n);
      const root = merkleRoot(tree);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(i, tree);
        expect(verifyInclusion(i, n, tree[i], proof, root)).toBe(true);
        expect(verifyInclusion(i, n, randomBytes(32), proof, root)).toBe(false);
        if (n > 1) expect(verifyInclusion((i + 1) % n, n, tree[i], proof, root)).toBe(false);
        if (proof.length) expect(verifyInclusion(i, n, tree[i], proof.slice(1), root)).toBe(false);
      }
    }
  });

  it('proves and checks consistency between every pair of sizes up to 40, and refuses altered proofs', () => {
    const leaves = Array.from({ length: 40 }, () => randomBytes(32));
    for (let n = 1; n <= leaves.length; n++) {
      const tree = leaves.slice(0, n);
      const root2 = merkleRoot(tree);
      for (let m = 1; m <= n; m++) {
        const root1 = merkleRoot(tree.slice(0, m));
        const proof = consistencyProof(m, tree);
        expect(verifyConsistency(m, n, root1, root2, proof)).toBe(true);
        if (m < n) {
          expect(verifyConsistency(m, n, randomBytes(32), root2, proof)).toBe(false);
          expect(verifyConsistency(m, n, root1, randomBytes(32), proof)).toBe(false);
        }
      }
    }
  });
});
