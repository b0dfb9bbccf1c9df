import t from 'tap';
import { Fanout, Range } from '../src/pubsub/fanout.js';
import type { Message } from '../src/pubsub/history.js';

/** The rule of shared runs of messages, on the module itself: a range holds only consecutive messages of one log. */
t.test("a subscriber's range takes only the next message of its log", async (t) => {
  const fanout = new Fanout('latin1', (message, pattern) => `${pattern ?? ''}[${message.data}]`);
  const m = (id: number, channel = 'a'): Message => ({ id, channel, data: `m${id}` });
  const [live, other, resumed] = [new Range(), new Range(), new Range()];
  const [m1, m0, m2] = [m(1), m(0), m(2)];
  t.ok(fanout.add(live, m1, null));
  t.ok(fanout.add(other, m1, null));
  // A resuming subscriber's history goes into the same log, between two live messages.
  t.ok(fanout.add(resumed, m0, null));
  t.ok(fanout.add(resumed, m2, null), 'the resumed one takes the live message after its history');
  t.notOk(fanout.add(live, m2, null), 'the live ones cannot: m0 lies between');
  t.equal(live.take()?.toString('latin1'), '[m1]', 'its run so far is taken out first');
  t.ok(fanout.add(live, m2, null), 'then it starts again');
  t.equal(live.take()?.toString('latin1'), '[m2]');
  t.equal(resumed.take()?.toString('latin1'), '[m0][m2]');
  t.equal(other.size, 4, "a range's size counts its characters");
  const shared = other.take();
  t.equal(shared?.toString('latin1'), '[m1]');
  const m3 = m(3);
  t.ok(fanout.add(live, m3, null));
  t.ok(fanout.add(other, m3, null));
  t.equal(live.take(), other.take(), 'the same run of the same log: the same bytes, joined once');
  // Another subscription (a pattern) of the same message has a log of its own.
  const both = new Range();
  t.ok(fanout.add(both, m2, null));
  t.notOk(fanout.add(both, m2, 'a*'));
  t.equal(both.takeText(), '[m2]');
  t.ok(fanout.add(both, m2, 'a*'));
  t.equal(both.take(true)?.toString('latin1'), '6\r\na*[m2]\r\n', "with HTTP's chunk framing, sized in bytes");
  t.ok(both.empty);
});

t.test('a new turn starts new logs', async (t) => {
  const fanout = new Fanout('utf8', (message) => message.data);
  const range = new Range();
  t.ok(fanout.add(range, { id: 1, channel: 'a', data: 'é' }, null));
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(fanout.add(range, { id: 2, channel: 'a', data: 'b' }, null), 'a range of the last turn is not extended into the new log');
  t.equal(range.take(true)?.toString('utf8'), '2\r\né\r\n', 'é is two bytes');
  t.ok(fanout.add(range, { id: 2, channel: 'a', data: 'b' }, null));
  t.equal(range.takeText(), 'b');
});
