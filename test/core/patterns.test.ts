import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamMatcher, patternToRegExp } from '../../src/core/patterns.js';

test('stream patterns: * stays within a level, ** crosses levels, ? is one character; a matcher answers the same from its cache and for **', () => {
  const cases: Array<[string, string, boolean]> = [
    ['pump-*/vibration', 'pump-1/vibration', true],
    ['pump-*/vibration', 'pump-1/x/vibration', false],
    ['*/temperature', 'bed-4/temperature', true],
    ['*/temperature', 'bed-4/temperature2', false],
    ['d?/t', 'd1/t', true],
    ['d?/t', 'd12/t', false],
    ['**', 'a/b/c', true],
    ['**', '', true],
    ['a/**', 'a/b/c', true],
    ['a/**', 'b/a', false],
    ['a.b/c', 'axb/c', false],
  ];
  for (const [pattern, stream, want] of cases) {
    assert.equal(patternToRegExp(pattern).test(stream), want, `${pattern} vs "${stream}"`);
    const m = new StreamMatcher([pattern]);
    assert.equal(m.matches(stream), want, `matcher ${pattern} vs "${stream}"`);
    assert.equal(m.matches(stream), want, `matcher ${pattern} vs "${stream}", cached`);
  }
  const any = new StreamMatcher(['x/*', '**']);
  for (const s of ['x/1', 'y/2/3', 'z']) assert.equal(any.matches(s), true);
  const tiny = new StreamMatcher(['a/*'], 2);
  for (let i = 0; i < 10; i++) assert.equal(tiny.matches(`a/${i}`), true, 'past the cache limit the answers stay right');
  assert.equal(tiny.matches('b/1'), false);
  // a fleet that comes and goes: what is remembered stays bounded, the answers right
  const fleet = new StreamMatcher(['*/temperature'], 100);
  for (let i = 0; i < 10_000; i++) {
    assert.equal(fleet.matches(`dev-${i}/temperature`), true);
    assert.equal(fleet.matches(`dev-${i}/current`), false);
    assert.equal(fleet.matches('steady/temperature'), true);
    assert.ok(fleet.remembered <= 200, `${fleet.remembered} streams remembered`);
  }
});
