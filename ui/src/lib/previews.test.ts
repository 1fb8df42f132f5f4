// The preview cases the server's previews run too (preview_test.go): the
// table reads the same whether the server previewed a page or the browser
// previewed a live rollout.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Rollout } from '../api';
import { answerPreview, boxedAnswer, responseChars } from '../rollouts/format';
import { setReasoningTags } from './reasoning';

interface Case {
  name: string;
  tags?: string[];
  messages: unknown[];
  want: { answer: string; boxed: string; chars: number; messages: number };
}

const cases = JSON.parse(readFileSync(resolve(__dirname, '../../../api/testdata/previews.json'), 'utf8')) as Case[];

describe('previews shared with the server', () => {
  afterEach(() => localStorage.clear());
  it('has the cases', () => expect(cases.length).toBeGreaterThan(10));
  for (const c of cases) {
    it(c.name, () => {
      if (c.tags) setReasoningTags(c.tags);
      const r = { messages: c.messages, rewards: [], promptText: '' } as unknown as Rollout;
      expect({ answer: answerPreview(r), boxed: boxedAnswer(r), chars: responseChars(r), messages: c.messages.length }).toEqual(c.want);
      // A server preview is taken as it is.
      expect(answerPreview({ ...r, preview: c.want })).toBe(c.want.answer);
    });
  }
});
