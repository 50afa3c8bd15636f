/** `inkwell serve`: serves a named model, and on SIGTERM lets a running stream finish within the grace period, then exits 0. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyRun } from '../helpers/tiny-run.js';
import { assertCliFailures, runCli } from '../helpers/run-cli.js';
import { client } from './helpers.js';

const MAIN = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'src', 'cli', 'main.js');
const gpt = tinyRun('gpt');

test('serve answers like generate --json, and SIGTERM drains a running stream and exits 0', async () => {
  const child = spawn(process.execPath, [MAIN, 'serve', '--model', `tiny=${gpt.dir}`, '--port', '0', '--max-batch', '2', '--grace', '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((done) => child.on('close', done));
  try {
    const url = await new Promise<string>((found, fail) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        const m = /on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr);
        if (m) found(m[1]!);
      });
      child.on('close', () => fail(new Error(`serve exited: ${stderr}`)));
    });
    const openai = client(url);
    const cli = await runCli(['generate', '--model', gpt.dir, '--prompt', 'the cat', '--seed', '3', '--temperature', '0.7', '--max-new-tokens', '30', '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const r = await openai.completions.create({ model: 'tiny', prompt: 'the cat', seed: 3, temperature: 0.7, max_tokens: 30 });
    assert.equal(r.choices[0]!.text, (JSON.parse(cli.stdout) as { completion: string }).completion);

    const stream = await openai.completions.create({ model: 'tiny', prompt: 'the', max_tokens: 400, temperature: 0, stream: true });
    let text = '';
    let finish: string | null = null;
    let signalled = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (!signalled && text.length >= 3) {
        child.kill('SIGTERM');
        signalled = true;
      }
    }
    // 400 tokens; a sampled <unk> reads as five characters.
    assert.equal(text.length - 4 * (text.match(/<unk>/g) ?? []).length, 400, 'the stream in flight finished');
    assert.equal(finish, 'length');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /SIGTERM: draining/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('serve refuses bad flags with one-line errors', async () => {
  await assertCliFailures([
    [['serve', '--model', gpt.dir, '--host', '0.0.0.0', '--port', '0'], /needs an API key/],
    [['serve', '--model', '/nonexistent/model', '--port', '0'], /does not exist/],
    [['serve', '--model', gpt.dir, '--quantize', 'q3'], /--quantize must be one of/],
    [['serve', '--port', '0'], /no models to serve/],
  ]);
});
