import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_TEMPLATE_SEGMENTS, pathTemplate } from './path-template.ts';

describe('pathTemplate', () => {
  it('keeps words and replaces values by {id}', () => {
    const cases: [string, string][] = [
      ['/', '/'],
      ['/api/checkout', '/api/checkout'],
      ['/api/orders/8f3a2b1c', '/api/orders/{id}'],
      ['/api/orders/42', '/api/orders/{id}'],
      ['/users/3fa85f64-5717-4562-b3fc-2c963f66afa6/cart', '/users/{id}/cart'],
      ['/api/v2/orders/ord_19', '/api/v2/orders/{id}'],
      ['/openapi.json', '/openapi.json'],
      ['/assets/main.3f2a9c.js', '/assets/{id}'],
      ['/search/caf%C3%A9', '/search/{id}'],
      ['/orders/', '/orders/'],
      ['/a//b', '/a/{id}/b'],
      [`/${'x'.repeat(40)}`, '/{id}'],
    ];
    for (const [path, template] of cases) assert.equal(pathTemplate(path), template, path);
  });

  it('caps the depth', () => {
    assert.equal(pathTemplate('/a/b/c/d/e/f/g/h'), '/a/b/c/d/e/f/…');
  });

  it('never lets a digit through, except in an API version, whatever the path', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 12 }), (segments) => {
        const template = pathTemplate(`/${segments.join('/')}`);
        const parts = template.split('/').slice(1);
        assert.ok(parts.length <= MAX_TEMPLATE_SEGMENTS + 1);
        for (const part of parts) if (!/^v\d{1,3}$/i.test(part)) assert.doesNotMatch(part, /\d/);
      }),
    );
  });
});
