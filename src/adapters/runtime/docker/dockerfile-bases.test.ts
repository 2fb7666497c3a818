import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseImagesOf } from './dockerfile-bases.ts';

describe('baseImagesOf', () => {
  const cases: [string, string, Record<string, string>, string[]][] = [
    ['one FROM', 'FROM baton/node:24\nCOPY . /app\n', {}, ['baton/node:24']],
    ['scratch is no image', 'FROM scratch\nCOPY rootfs/ /\n', {}, []],
    [
      'lower-case keywords and --platform',
      'from --platform=linux/amd64 alpine:3 as base\n',
      {},
      ['alpine:3'],
    ],
    [
      'stages are not images, by name or index',
      'FROM golang:1.22 AS build\nRUN go build\nFROM build AS again\nFROM scratch\nCOPY --from=build /out /\nCOPY --from=1 /x /\n',
      {},
      ['golang:1.22'],
    ],
    [
      'COPY --from an image',
      'FROM scratch\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\n',
      {},
      ['nginx:1.27'],
    ],
    ['a global ARG default', 'ARG NODE=24\nFROM baton/node:${NODE}\n', {}, ['baton/node:24']],
    [
      'a build arg wins over the default',
      'ARG NODE=24\nFROM baton/node:$NODE\n',
      { NODE: '22' },
      ['baton/node:22'],
    ],
    ['default operator', 'ARG TAG\nFROM alpine:${TAG:-3.20}\n', {}, ['alpine:3.20']],
    [
      'an ARG after FROM does not reach the next FROM',
      'FROM alpine:3\nARG LATE=x\nFROM other:${LATE:-y}\n',
      {},
      ['alpine:3', 'other:y'],
    ],
    [
      'continuations and comments',
      '# syntax=docker/dockerfile:1\nFROM \\\n  # a comment inside\n  debian:bookworm \\\n  AS base\n',
      {},
      ['debian:bookworm'],
    ],
    ['each image once', 'FROM a:1 AS x\nFROM a:1 AS y\n', {}, ['a:1']],
    ['quoted ARG default', 'ARG BASE="alpine:3"\nFROM $BASE\n', {}, ['alpine:3']],
  ];
  for (const [name, dockerfile, args, expected] of cases) {
    it(name, () => assert.deepEqual(baseImagesOf(dockerfile, args).images, expected));
  }
});
