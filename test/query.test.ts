import t from 'tap';
import { parseQuery } from '../src/http/query.js';

t.test('parseQuery: the first value of each name, pairs without = as empty values', async (t) => {
  const cases: Array<[string, Array<[string, string]>]> = [
    ['', []],
    ['key=a', [['key', 'a']]],
    ['key=a&value=b', [['key', 'a'], ['value', 'b']]],
    ['&&key=a&&', [['key', 'a']]],
    ['key', [['key', '']]],
    ['x=1&y&z=3&w', [['x', '1'], ['y', ''], ['z', '3'], ['w', '']]],
    ['a=b=c&d', [['a', 'b=c'], ['d', '']]],
    ['k=1&&&k=2', [['k', '1']]],
    ['&key&key=v', [['key', '']]],
    ['=x', [['', 'x']]],
    ['k=%41+b', [['k', 'A b']]],
  ];
  for (const [query, pairs] of cases) t.same([...parseQuery(query)], pairs, JSON.stringify(query));
  t.throws(() => parseQuery('k=1&v=%zz'), /Malformed percent-encoding in parameter 'v'/);
  t.same([...parseQuery('a=1&a=%zz')], [['a', '1']], 'a repeated name is not decoded');
});
