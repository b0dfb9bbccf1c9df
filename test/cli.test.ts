import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { runCli, spawnServer } from './fixtures/process.js';
import { eventually } from './fixtures/wait.js';

t.test('usage errors print what is wrong and exit 2', async (t) => {
  for (const [args, message] of [
    [['--nodes', '0'], /--nodes must be a whole number from 1 to 64, got '0'/],
    [['--port', 'abc'], /--port must be a whole number from 0 to 65535, got 'abc'/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
  ] as const) {
    const exit = await runCli([...args]);
    t.equal(exit.code, 2, args.join(' '));
    t.match(exit.stderr, message);
    t.match(exit.stderr, /--help/);
  }
});

t.test('--help explains every flag; --version prints the version', async (t) => {
  const help = await runCli(['--help']);
  t.equal(help.code, 0);
  for (const flag of ['--port', '--host', '--nodes', '--cache-size', '--debug', '--help', '--version']) {
    t.match(help.stdout, flag);
  }
  const version = await runCli(['--version']);
  t.equal(version.code, 0);
  t.equal(version.stdout, '0.1.0\n');
});

t.test('a port in use is reported and exits 1', async (t) => {
  const first = await spawnServer([]);
  t.teardown(() => first.child.kill('SIGKILL'));
  const port = new URL(first.url).port;
  const second = await runCli(['--port', port]);
  t.equal(second.code, 1);
  t.equal(second.stderr, `distributed-cache: cannot listen on 127.0.0.1:${port}: the address is already in use (another server on that port? --port 0 picks a free one)\n`, 'one clear line, no stack');
  t.notMatch(second.stdout, /"level"/, 'no JSON log line for it');
});

t.test('a --host that does not resolve is a usage error, before protected mode', async (t) => {
  const exit = await runCli(['--host', 'no-such-host.invalid', '--port', '0']);
  t.equal(exit.code, 2);
  t.match(exit.stderr, /^distributed-cache: --host 'no-such-host.invalid' is not an address of this machine, nor a name that resolves to one\n/);
  t.notMatch(exit.stderr, /refusing/);
});

t.test('npm start: a SIGTERM to the script stops the server, not just the shell around it', async (t) => {
  // npm runs a script as `sh -c '<script> <args>'` and passes SIGTERM on to that shell. Run
  // the start script the same way, its build step (done by npm test already) made a no-op.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const script = pkg.scripts.start.replace('tsc -p .', 'true');
  t.not(script, pkg.scripts.start, 'the start script builds first');
  const shell = spawn('sh', ['-c', `${script} --port 0`], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  // Whatever happens, nothing it started outlives the test.
  t.teardown(() => {
    try {
      process.kill(-shell.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  let out = '';
  shell.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const url = await eventually('the server is listening', () => /listening on (http:\/\/\S+?)"/.exec(out)?.[1]);
  const exited = new Promise((resolve) => shell.once('exit', resolve));
  shell.kill('SIGTERM');
  await exited;
  // Without `exec` the shell dies and the server runs on, orphaned, holding its port.
  await eventually('the server has stopped', () => fetch(`${url}/health`).then(() => false, () => true));
  t.pass('the server is gone with the shell');
});

t.test('--debug logs each operation', async (t) => {
  const server = await spawnServer(['--debug', '--nodes', '2']);
  await fetch(`${server.url}/set?key=logged&value=1`, { method: 'POST' });
  await fetch(`${server.url}/get?key=logged`);
  server.child.kill('SIGINT');
  const exit = await server.exit;
  t.equal(exit.code, 0);
  t.match(exit.stdout, /"op":"set","key":"logged"/);
  t.match(exit.stdout, /"op":"get","key":"logged".*"status":"ok"/);
});

t.test('SIGTERM under load: every request settles, exit 0', async (t) => {
  const server = await spawnServer(['--nodes', '3']);
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  const base = new URL(server.url);
  let sent = 0;
  let answered = 0;
  let serverErrors = 0;
  const connectionErrors = new Map<string, number>();
  let stop = false;

  const once = (i: number): Promise<void> =>
    new Promise((resolve) => {
      sent++;
      const req = httpRequest(
        { host: base.hostname, port: base.port, agent, method: 'POST', path: `/set?key=load-${i}-${sent}&value=${sent}` },
        (res) => {
          res.resume();
          res.on('end', () => {
            answered++;
            if (res.statusCode! >= 500) serverErrors++;
            resolve();
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        connectionErrors.set(error.code ?? error.message, (connectionErrors.get(error.code ?? error.message) ?? 0) + 1);
        stop = true;
        resolve();
      });
      req.end();
    });
  const client = async (i: number): Promise<void> => {
    while (!stop) await once(i);
  };
  const clients = Array.from({ length: 50 }, (_, i) => client(i));
  await eventually('the load is answered', () => answered >= 100);
  const signalled = performance.now();
  server.child.kill('SIGTERM');
  // Every request must settle (response or connection error): one left hanging holds this
  // until tap's timeout fails the test.
  await Promise.all(clients);
  stop = true;
  const exit = await server.exit;
  const elapsed = performance.now() - signalled;
  agent.destroy();
  t.equal(exit.code, 0, 'exit code 0');
  t.comment(`exited ${elapsed.toFixed(0)} ms after SIGTERM; ${answered} of ${sent} requests answered before and during the drain`);
  t.equal(serverErrors, 0, 'no 5xx during shutdown');
  for (const code of connectionErrors.keys()) {
    t.match(code, /ECONNREFUSED|ECONNRESET/, `only refused/reset connections after close: ${code}`);
  }
  t.comment(`sent ${sent}, answered ${answered}, connection errors ${JSON.stringify(Object.fromEntries(connectionErrors))}`);
});

t.test('SIGTERM with RESP clients and subscribers connected: they are closed, exit 0', async (t) => {
  const { connected } = await import('./fixtures/raw.js');
  const { child, url, respPort, exit } = await spawnServer(['--resp-port', '0', '--shutdown-timeout', '5']);
  t.ok(respPort !== undefined && respPort > 0, 'the log line names the RESP port');
  const idle = await connected(respPort!);
  const subscriber = await connected(respPort!);
  subscriber.write('SUBSCRIBE news\r\n');
  subscriber.resume();
  const stream = await fetch(`${url}/subscribe/news`);
  const reader = stream.body!.getReader();
  await reader.read();
  const closed = (socket: import('node:net').Socket): Promise<void> => new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
  idle.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  const started = Date.now();
  child.kill('SIGTERM');
  const ended = (async () => {
    for (;;) if ((await reader.read()).done) return;
  })().catch(() => undefined);
  await Promise.all([closed(idle), closed(subscriber), ended]);
  const { code } = await exit;
  t.equal(code, 0);
  t.ok(Date.now() - started < 5_000, 'without waiting for the shutdown timeout');
});
