/**
 * The simulator's external file upload flow (files.getUploadURLExternal, the upload URL,
 * files.completeUploadExternal), driven by the real @slack/web-api client's filesUploadV2.
 */
import { type Logger, LogLevel, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatCall, namesFrom } from '../../../src/local/cli.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../src/local/slack/server.ts';

let sim: SlackSimulator;
let web: WebClient;
const silent: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

function slackError(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'data' in error) {
    const data = error.data;
    if (typeof data === 'object' && data !== null && 'error' in data && typeof data.error === 'string') {
      return data.error;
    }
  }
  return undefined;
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

async function post(
  url: string,
  body: string | FormData,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers });
}

beforeAll(async () => {
  sim = await startSlackSimulator();
  web = new WebClient(sim.botToken, {
    slackApiUrl: sim.apiUrl,
    logger: silent,
    retryConfig: { retries: 0 },
  });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

describe('Slack simulator: external file uploads', () => {
  it('filesUploadV2 into a DM: the bytes are recorded and the file appears in the DM', async () => {
    const opened = await web.conversations.open({ users: 'U_ALICE' });
    const dm = opened.channel?.id ?? '';
    const content = 'id,actor\n1,U_ALICE\n"2","say ""hi"""\n';
    const result = await web.filesUploadV2({
      channel_id: dm,
      filename: 'audit.csv',
      title: 'Audit export',
      content,
      initial_comment: 'Your export',
    });
    expect(result.ok).toBe(true);

    const getUrl = sim.lastCall('files.getUploadURLExternal');
    expect(getUrl?.args).toMatchObject({ filename: 'audit.csv', length: String(Buffer.byteLength(content)) });
    expect(getUrl?.response).toMatchObject({ ok: true, file_id: expect.stringMatching(/^F/) });
    expect(String(getUrl?.response.upload_url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/upload\/v1\/.+/);

    const complete = sim.lastCall('files.completeUploadExternal');
    expect(complete?.args.files).toEqual([
      expect.objectContaining({ id: getUrl?.response.file_id, title: 'Audit export' }),
    ]);
    expect(complete?.args.channel_id).toBe(dm);
    const [file] = sim.files;
    expect(file).toMatchObject({ name: 'audit.csv', title: 'Audit export', completed: true });
    expect(sim.fileText(file?.id ?? '')).toBe(content);
    expect(complete?.response).toMatchObject({
      ok: true,
      files: [
        expect.objectContaining({
          id: file?.id,
          name: 'audit.csv',
          title: 'Audit export',
          filetype: 'csv',
          mimetype: 'text/csv',
          size: Buffer.byteLength(content),
          ims: [dm],
          channels: [],
          is_public: false,
        }),
      ],
    });

    // `npm run slack` shows the shared file.
    const names = namesFrom(sim.workspaceInfo());
    expect(complete && formatCall(complete, names)).toMatch(
      new RegExp(
        `^── file "audit\\.csv" \\(${Buffer.byteLength(content)} bytes, F\\w+\\) shared in ${dm} · content: GET /_sim/files\n\\s+Your export`,
      ),
    );

    const [message] = sim.messagesIn(dm);
    expect(message).toMatchObject({ text: 'Your export', files: [file?.id] });
    const history = await web.conversations.history({ channel: dm });
    expect(history.messages?.[0]).toMatchObject({
      text: 'Your export',
      upload: true,
      files: [expect.objectContaining({ id: file?.id, name: 'audit.csv' })],
    });
  });

  it('a file completed without a channel stays private to the uploader', async () => {
    const before = sim.workspace.messages.length;
    const result = await web.filesUploadV2({ filename: 'private.txt', content: 'secret' });
    expect(result.ok).toBe(true);
    const [file] = sim.files;
    expect(file).toMatchObject({ completed: true, shares: [], user: 'U_RUNBOOK' });
    expect(sim.fileText(file?.id ?? '')).toBe('secret');
    expect(sim.workspace.messages.length).toBe(before);
    // Other processes (`npm run slack`) read files over the control endpoint.
    const listed = (await (await fetch(`${sim.baseUrl}/_sim/files`)).json()) as {
      files: { id: string; completed: boolean; content_base64: string }[];
    };
    expect(
      listed.files.map((f) => [f.id, f.completed, Buffer.from(f.content_base64, 'base64').toString()]),
    ).toEqual([[file?.id, true, 'secret']]);
    expect(sim.lastCall('files.completeUploadExternal')?.response).toMatchObject({
      files: [expect.objectContaining({ channels: [], groups: [], ims: [], is_public: false })],
    });
  });

  it('shares into a public channel and a thread', async () => {
    const root = await web.chat.postMessage({ channel: 'C_DEPLOYMENTS', text: 'release notes' });
    await web.filesUploadV2({
      channel_id: 'C_DEPLOYMENTS',
      thread_ts: root.ts ?? '',
      filename: 'notes.md',
      content: '# v2',
    });
    const [file] = sim.files;
    const [reply] = sim.thread('C_DEPLOYMENTS', root.ts ?? '').slice(1);
    expect(reply).toMatchObject({ threadTs: root.ts, files: [file?.id] });
    expect(sim.lastCall('files.completeUploadExternal')?.response).toMatchObject({
      files: [expect.objectContaining({ channels: ['C_DEPLOYMENTS'], is_public: true })],
    });
  });

  it('the upload URL takes raw bytes or a multipart `file` part and refuses a length mismatch', async () => {
    const start = await web.files.getUploadURLExternal({ filename: 'a.txt', length: 5 });
    const url = start.upload_url ?? '';

    const short = await post(url, 'abc');
    expect(short.status).toBe(400);
    expect(await short.text()).toMatch(/length mismatch/);
    expect(sim.files[0]?.content).toBeUndefined();

    const raw = await post(url, 'hello', { 'content-type': 'application/octet-stream' });
    expect(raw.status).toBe(200);
    expect(await raw.text()).toBe('OK - 5');

    const form = new FormData();
    form.append('file', new Blob(['HELLO']), 'a.txt');
    const multipart = await post(url, form);
    expect(multipart.status).toBe(200);
    expect(await multipart.text()).toBe('OK - 5');
    expect(sim.fileText(start.file_id ?? '')).toBe('HELLO');

    expect((await post(`${sim.baseUrl}/upload/v1/nope`, 'hello')).status).toBe(404);
  });

  it('refuses bad arguments like Slack', async () => {
    expect(slackError(await errorOf(web.apiCall('files.getUploadURLExternal', { filename: 'x.txt' })))).toBe(
      'invalid_arguments',
    );
    expect(
      slackError(
        await errorOf(
          web.apiCall('files.getUploadURLExternal', {
            filename: 'x.png',
            length: 3,
            alt_txt: 'a'.repeat(1001),
          }),
        ),
      ),
    ).toBe('alt_txt_too_large');
    expect(slackError(await errorOf(web.apiCall('files.completeUploadExternal', {})))).toBe(
      'invalid_arguments',
    );
    expect(
      slackError(await errorOf(web.files.completeUploadExternal({ files: [{ id: 'F_UNKNOWN' }] }))),
    ).toBe('file_not_found');

    // Bytes never sent: nothing to complete.
    const pending = await web.files.getUploadURLExternal({ filename: 'y.txt', length: 2 });
    expect(
      slackError(await errorOf(web.files.completeUploadExternal({ files: [{ id: pending.file_id ?? '' }] }))),
    ).toBe('file_not_found');

    await post(pending.upload_url ?? '', 'ok');
    expect(
      slackError(
        await errorOf(
          web.files.completeUploadExternal({ files: [{ id: pending.file_id ?? '' }], channel_id: 'C_NOPE' }),
        ),
      ),
    ).toBe('channel_not_found');
    // The refused call shared nothing and did not use the file up.
    expect(sim.files.find((f) => f.id === pending.file_id)?.completed).toBe(false);
    await web.files.completeUploadExternal({ files: [{ id: pending.file_id ?? '' }] });
    // Once only.
    expect(
      slackError(await errorOf(web.files.completeUploadExternal({ files: [{ id: pending.file_id ?? '' }] }))),
    ).toBe('file_not_found');
  });

  it('an upload URL fault fails filesUploadV2 and completes nothing', async () => {
    sim.injectFault({ method: 'file_upload', httpStatus: 503 });
    const error = await errorOf(
      web.filesUploadV2({ channel_id: 'C_GENERAL', filename: 'x.csv', content: 'a' }),
    );
    expect(error).toBeInstanceOf(Error);
    expect(sim.callsTo('files.completeUploadExternal')).toHaveLength(0);
    expect(sim.messagesIn('C_GENERAL')).toHaveLength(0);
  });
});
