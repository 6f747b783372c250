/** `davis catalogue [--json]`: every message type. */
import { listTypes } from '../../catalogue/catalogue';
import { usageError, type Command } from '../command';

export const catalogueCommand: Command = {
  options: { json: { type: 'boolean' } },
  help: `Usage: davis catalogue [--json]

Lists every message type: id, direction (outbound: UMA → central; inbound: central
notifications), legal article, roles allowed to send it (inbound: the reply type), ordering key.
  --json   the same as JSON
`,
  async run(v, pos, io) {
    if (pos.length) throw usageError(`unexpected argument "${pos[0]}" (davis catalogue takes none)`);
    const types = listTypes({ direction: 'all' });
    if (v.json) {
      io.out(JSON.stringify(types.map((t) => ({
        id: t.id, direction: t.direction, title: t.title, article: t.article, roles: t.roles, orderingKey: t.orderingKey, xmlName: t.xmlName,
        ...(t.replyType ? { replyType: t.replyType } : {}),
      })), null, 2) + '\n');
      return 0;
    }
    const rows = types.map((t) => [t.id, t.direction, t.article, t.direction === 'inbound' ? `(reply: ${t.replyType ?? 'none'})` : t.roles.join(','), t.orderingKey, t.title]);
    const head = ['TYPE', 'DIRECTION', 'ARTICLE', 'ROLES', 'ORDERING KEY', 'TITLE'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [head, ...rows]) io.out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ') + '\n');
    return 0;
  },
};
