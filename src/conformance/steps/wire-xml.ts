/** The wire XML the mock received for a message, screened and parsed like any XML from outside. */
import type { RunContext } from '../case-run';
import { WIRE_SCREEN_LIMITS } from '../../wire/envelope';
import type { XmlDocument } from '../../xml/parser';
import { screenAndParse } from '../../xml/screen';
import { poll } from './poll';

export async function wireXml(run: RunContext, id: string, deadline: number, every: number): Promise<{ doc?: XmlDocument; text?: string; status?: number }> {
  let status: number | undefined;
  const r = await poll(deadline, every, async () => {
    const a = await run.mock('GET', `/_mock/messages/${encodeURIComponent(id)}`);
    status = a.status;
    return { done: a.status === 200, value: a.status === 200 ? a.text : undefined };
  });
  if (r.value === undefined) return { ...(status ? { status } : {}) };
  // Whatever the mock returns is screened and parsed like any XML from outside, once.
  return { doc: screenAndParse(r.value, WIRE_SCREEN_LIMITS), text: r.value };
}
