import t from 'tap';
import { RedisProcess, redisMissing } from './fixtures/redis.js';
import { request, startTestServer } from './fixtures/server.js';
import { eventually } from './fixtures/wait.js';

/** --backend-wait: a write is answered only once that many replicas of the backend hold it. */
const missing = redisMissing();
if (missing !== undefined) t.comment(`skipping the --backend-wait tests: ${missing}`);

t.test('--backend-wait 1: every acknowledged write is on the replica already', { skip: missing }, async (t) => {
  const master = await RedisProcess.start();
  const replica = await RedisProcess.start(['--replicaof', '127.0.0.1', `${master.port}`]);
  const server = await startTestServer({ backend: master.url, backendWait: 1, backendTimeout: 500 });
  const onReplica = replica.client();
  const onMaster = master.client();
  t.teardown(async () => {
    onReplica.disconnect();
    onMaster.disconnect();
    await server.close();
    await replica.close();
    await master.close();
  });
  await eventually('the replica is in sync', async () => (await onReplica.info('replication')).includes('master_link_status:up'));
  await eventually('the near cache serves', () => server.cluster.near!.serving);
  let absent = 0;
  for (let i = 0; i < 50; i++) {
    t.equal((await request(server.url, 'POST', `/set?key=w${i}&value=v${i}`)).status, 201);
    // Read from the replica right after the answer: WAIT has confirmed it holds the write.
    if ((await onReplica.get(`w${i}`)) !== `v${i}`) absent++;
  }
  t.equal(absent, 0, '50 writes, each on the replica when answered');
  t.equal((await request(server.url, 'POST', '/keys/w0/incr?by=5')).status, 409, 'a refused write is still a refusal');
  t.equal((await request(server.url, 'POST', '/mdel', JSON.stringify({ keys: ['w1', 'w2'] }))).status, 200);
  t.equal(await onReplica.exists('w1', 'w2'), 0, 'multi-key writes wait too');

  await replica.stop();
  await eventually('the master sees the replica gone', async () => (await onMaster.info('replication')).includes('connected_slaves:0'));
  const answer = await request(server.url, 'POST', '/set?key=lonely&value=1');
  t.equal(answer.status, 503, 'no replica to confirm it: not acknowledged');
  t.match(answer.json, { code: 'BACKEND_UNAVAILABLE', error: /did not confirm the write on 1 replica/ });
});
