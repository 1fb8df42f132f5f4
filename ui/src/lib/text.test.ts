import { describe, expect, it } from 'vitest';
import { visibleText } from './text';

describe('visibleText', () => {
  it('shows bidi overrides and controls as codes, leaves other text alone', () => {
    expect(visibleText('run-\u202Eexe.txt')).toBe('run-⟨U+202E⟩exe.txt');
    expect(visibleText('a\u0000b\u200Fc\u2066d')).toBe('a⟨U+0000⟩b⟨U+200F⟩c⟨U+2066⟩d');
    expect(visibleText('نموذج GRPO ✓ é')).toBe('نموذج GRPO ✓ é');
  });
});
