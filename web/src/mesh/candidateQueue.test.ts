// Remote ICE candidates wait for the remote description.

import { describe, expect, it } from 'vitest';
import { CandidateQueue } from './candidateQueue';

describe('CandidateQueue', () => {
  it('queues candidates until the remote description is set, then releases them in order', () => {
    const q = new CandidateQueue<string | null>();
    expect(q.push('a')).toBe(false);
    expect(q.push('b')).toBe(false);
    expect(q.push(null)).toBe(false);
    expect(q.release()).toEqual(['a', 'b', null]);
    expect(q.push('c')).toBe(true);
    expect(q.size).toBe(0);
  });

  it('holds again while a new remote description (an ICE restart) is applied', () => {
    const q = new CandidateQueue<string>();
    q.release();
    q.hold();
    expect(q.push('restart-1')).toBe(false);
    expect(q.release()).toEqual(['restart-1']);
    expect(q.release()).toEqual([]);
  });

  it('forgets everything on clear', () => {
    const q = new CandidateQueue<string>();
    q.push('a');
    q.clear();
    expect(q.release()).toEqual([]);
  });
});
