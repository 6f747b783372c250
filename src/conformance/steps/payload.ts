/** The payload a send, notify or mock-state step carries: an example, a file or inline, then edited. */
import type { CaseRun } from '../case-run';
import { removePointer, setPointer } from '../jsonpath';
import type { PayloadSource } from '../types';

/** Builds a payload from its source and the step's edits. */
export function payloadOf(cr: CaseRun, st: PayloadSource): unknown {
  // Examples are others' data, taken literally; inline and file payloads are templates.
  let payload: unknown = st.example ? structuredClone(st.example.data) : st.payloadFile ? cr.resolve(st.payloadFile.data) : st.payload !== undefined ? cr.resolve(st.payload) : {};
  if (st.replace) {
    const map = new Map(Object.entries(st.replace).map(([k, v]) => [k, cr.resolve(v)]));
    // Identifiers also appear inside other values (a hit id built from the application number).
    const inner = [...map].filter(([k, v]) => k.length >= 4 && typeof v === 'string') as [string, string][];
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') {
        if (map.has(v)) return map.get(v);
        let out = v;
        for (const [k, r] of inner) if (out.includes(k)) out = out.split(k).join(r);
        return out;
      }
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    payload = walk(payload);
  }
  for (const p of st.remove ?? []) removePointer(payload, p);
  for (const [p, v] of Object.entries(st.set ?? {})) setPointer(payload, p, cr.resolve(v));
  return payload;
}
