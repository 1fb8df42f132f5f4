import { describe, expect, test } from 'vitest';
import { boxed, finalAnswer, splitReasoning } from './reasoning';

describe('splitReasoning', () => {
  test('a closed think block is reasoning, the rest the answer', () => {
    const s = splitReasoning('<think>\nLet me check: 2+2.\n</think>\n\nThe answer is **4**.');
    expect(s).toEqual({ reasoning: ['Let me check: 2+2.'], answer: 'The answer is **4**.', truncated: false });
  });
  test('thinking and reasoning tags, several blocks, any case', () => {
    const s = splitReasoning('<Thinking>a</Thinking> x <reasoning>b</reasoning> y');
    expect(s.reasoning).toEqual(['a', 'b']);
    expect(s.answer).toBe('x  y');
  });
  test('only a closing tag: the template opened it in the prompt', () => {
    expect(splitReasoning('so the sum is 10.\n</think>\nFinal: 10')).toEqual({ reasoning: ['so the sum is 10.'], answer: 'Final: 10', truncated: false });
  });
  test('a trace cut before its closing tag has no answer', () => {
    expect(splitReasoning('<think>I need to consider every case, starting with')).toEqual({
      reasoning: ['I need to consider every case, starting with'],
      answer: '',
      truncated: true,
    });
  });
  test('no tags: all answer', () => {
    expect(splitReasoning('plain')).toEqual({ reasoning: [], answer: 'plain', truncated: false });
  });
  test('other tags are left alone', () => {
    expect(splitReasoning('<thinker>x</thinker>', ['think']).answer).toBe('<thinker>x</thinker>');
  });
});

describe('finalAnswer and boxed', () => {
  test('an answer tag wins over the text around it', () => {
    expect(finalAnswer('<think>hmm</think> ok <answer>42</answer> done')).toBe('42');
  });
  test('the last boxed answer, nested braces kept', () => {
    expect(boxed('first \\boxed{1}, then \\boxed{\\frac{70}{220}} at last')).toBe('\\frac{70}{220}');
    expect(boxed('\\boxed{a{b}c}')).toBe('a{b}c');
    expect(boxed('none here')).toBe('');
    expect(boxed('\\boxed{cut off')).toBe('');
  });
});
