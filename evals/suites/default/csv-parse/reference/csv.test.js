import test from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv } from './csv.js';

test('two records', () => assert.deepEqual(parseCsv('a,b\n1,2\n'), [['a', 'b'], ['1', '2']]));
