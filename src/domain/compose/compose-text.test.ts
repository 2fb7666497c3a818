// The small readers compose import leans on: interpolation, .env files, command words, units.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDotEnv } from './dotenv.ts';
import { interpolate } from './interpolate.ts';
import { shellWords } from './shell-words.ts';
import { composeCpus, composeDuration, composeMemory } from './units.ts';

describe('interpolate', () => {
  const vars = { TAG: '1.4', EMPTY: '', USER: 'app' };
  const cases: [string, string, string[]][] = [
    ['app:${TAG}', 'app:1.4', []],
    ['app:$TAG-x', 'app:1.4-x', []],
    ['${MISSING:-2.0}', '2.0', []],
    ['${EMPTY:-fallback}', 'fallback', []],
    ['${EMPTY-kept}', '', []],
    ['${MISSING-${USER}}', 'app', []],
    ['${TAG:+set}|${MISSING:+set}', 'set|', []],
    ['price: $$5', 'price: $5', []],
    ['a $ alone', 'a $ alone', []],
    ['${MISSING}', '', ['MISSING is not set (in .env): it became an empty string']],
    ['${MISSING:?the password}', '', ['MISSING: the password']],
    ['${EMPTY?set}', '', []],
    ['${bad name}', '', ['${bad name} is not a variable reference']],
  ];
  for (const [text, expected, problems] of cases) {
    it(text, () => assert.deepEqual(interpolate(text, vars), { text: expected, problems }));
  }
});

describe('parseDotEnv', () => {
  it('reads compose’s spellings', () => {
    const env = parseDotEnv(
      [
        '# a comment',
        '',
        'PLAIN=value  # trailing comment',
        'export EXPORTED=yes',
        "SINGLE='$NOT ${EXPANDED} # kept'",
        'DOUBLE="line\\nnext \\"quoted\\""',
        'MULTI="first',
        'second"',
        'EMPTY=',
        'dotted.name=ok',
        'not a pair',
      ].join('\n'),
    );
    assert.deepEqual(env.values, {
      PLAIN: 'value',
      EXPORTED: 'yes',
      SINGLE: '$NOT ${EXPANDED} # kept',
      DOUBLE: 'line\nnext "quoted"',
      MULTI: 'first\nsecond',
      EMPTY: '',
      'dotted.name': 'ok',
    });
    assert.deepEqual(env.problems, ['line 11: "not a pair" is not KEY=VALUE']);
  });
});

describe('shellWords', () => {
  const cases: [string, string[] | { error: string }][] = [
    ['redis-server --appendonly yes', ['redis-server', '--appendonly', 'yes']],
    ['  spaced   out  ', ['spaced', 'out']],
    [`sh -c 'echo "hi there"'`, ['sh', '-c', 'echo "hi there"']],
    [`echo "a \\"b\\" \\$c" d\\ e`, ['echo', 'a "b" $c', 'd e']],
    [`empty "" ''`, ['empty', '', '']],
    [
      `--transaction-isolation=READ-COMMITTED --binlog-format=ROW`,
      ['--transaction-isolation=READ-COMMITTED', '--binlog-format=ROW'],
    ],
    [`unclosed 'quote`, { error: `unclosed ' in "unclosed 'quote"` }],
  ];
  for (const [text, expected] of cases) it(text, () => assert.deepEqual(shellWords(text), expected));
});

describe('units', () => {
  it('durations', () => {
    assert.equal(composeDuration('1m30s'), '90s');
    assert.equal(composeDuration('10s'), '10s');
    assert.equal(composeDuration('2m'), '2m');
    assert.equal(composeDuration('1h'), '1h');
    assert.equal(composeDuration('500ms'), '500ms');
    assert.equal(composeDuration('1.5s'), '1500ms');
    assert.equal(composeDuration(30), '30s');
    assert.equal(composeDuration('30'), '30s');
    assert.equal(composeDuration('soon'), undefined);
    assert.equal(composeDuration('10s later'), undefined);
  });

  it('memory, in powers of 1024', () => {
    assert.equal(composeMemory('512m'), '512Mi');
    assert.equal(composeMemory('512M'), '512Mi');
    assert.equal(composeMemory('512mb'), '512Mi');
    assert.equal(composeMemory('2GiB'), '2Gi');
    assert.equal(composeMemory('1.5g'), '1536Mi');
    assert.equal(composeMemory('50M'), '50Mi');
    assert.equal(composeMemory(1048576), '1Mi');
    assert.equal(composeMemory('1000'), '1Ki');
    assert.equal(composeMemory('lots'), undefined);
    assert.equal(composeMemory('0'), undefined);
  });

  it('cpus', () => {
    assert.equal(composeCpus('0.50'), 0.5);
    assert.equal(composeCpus(2), 2);
    assert.equal(composeCpus('0'), undefined);
    assert.equal(composeCpus('many'), undefined);
  });
});
