import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settledWithin } from '../../src/relay/wait.js';

describe('settledWithin', () => {
  it('true once the promise settles, resolved or rejected; false after ms when it does not', async () => {
    assert.equal(await settledWithin(new Promise((resolve) => setTimeout(resolve, 10)), 2000), true);
    assert.equal(await settledWithin(Promise.reject(new Error('x')), 2000), true);
    const started = Date.now();
    assert.equal(await settledWithin(new Promise(() => undefined), 50), false);
    assert.ok(Date.now() - started >= 45);
  });
});
