import { describe, expect, it } from 'vitest';
import { isLive } from './liveness';

describe('isLive', () => {
  const now = Date.parse('2024-05-10T12:00:00Z');
  it('is live only while active and updated within two minutes', () => {
    expect(isLive({ status: 'active', updatedAt: '2024-05-10T11:58:30Z' }, now)).toBe(true);
    expect(isLive({ status: 'active', updatedAt: '2024-05-10T11:57:59Z' }, now)).toBe(false);
    expect(isLive({ status: 'complete', updatedAt: '2024-05-10T11:59:59Z' }, now)).toBe(false);
    expect(isLive({ status: 'active', updatedAt: 'bad' }, now)).toBe(false);
  });
});
