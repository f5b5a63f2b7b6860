// Messages for denied or absent camera and microphone.

import { describe, expect, it } from 'vitest';
import { classifyMediaError, describeMediaProblem } from './mediaProblem';

describe('media problems', () => {
  it('classifies getUserMedia errors', () => {
    expect(classifyMediaError('NotAllowedError')).toBe('denied');
    expect(classifyMediaError('NotFoundError')).toBe('absent');
    expect(classifyMediaError('NotReadableError')).toBe('busy');
    expect(classifyMediaError(undefined)).toBe('other');
  });

  it('offers to watch and listen when both devices are missing', () => {
    const p = describeMediaProblem('denied', ['audio', 'video']);
    expect(p?.message).toMatch(/Camera and microphone access was denied/);
    expect(p?.message).toMatch(/join to watch and listen/);
    expect(p?.inRoom).toMatch(/watching and listening only/);
  });

  it('names the one missing device', () => {
    const p = describeMediaProblem('absent', ['video']);
    expect(p?.message).toBe('No camera found. You can still join without your camera.');
    expect(p?.inRoom).toMatch(/cannot see you/);
    expect(describeMediaProblem('denied', [])).toBeNull();
  });
});
