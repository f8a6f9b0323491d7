/**
 * `/deploy audit` and `/deploy audit export` end to end: signed slash commands to the real bot, real
 * Postgres, and the Slack simulator's external file upload flow for the CSV.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subDays } from 'date-fns/subDays';
import { subHours } from 'date-fns/subHours';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppendAuditInput } from '../../src/store/repositories/audit.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';

interface Block {
  type: string;
  text?: { text: string };
  elements?: { text: string }[];
}

function blockText(blocks: unknown): string {
  return ((blocks ?? []) as Block[])
    .map((b) => b.text?.text ?? b.elements?.map((e) => e.text).join(' ') ?? '')
    .join('\n');
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF) into rows of cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

describe('/deploy audit, end to end through the Slack simulator', () => {
  let bot: TestBot;
  let dir: string;
  const now = new Date();

  async function add(input: Partial<AppendAuditInput> & { at: Date }) {
    return bot.runtime.services.repos.audit.append({
      actor: 'U_ALICE',
      action: 'deploy.restart',
      outcome: 'succeeded',
      service: 'barq-api',
      environment: 'production',
      ...input,
    });
  }

  async function command(text: string, userId = 'U_ALICE') {
    const since = bot.sim.responses.length;
    const res = await bot.slack.slashCommand({ command: '/deploy', text, userId });
    expect(res.status).toBe(200);
    expect(res.withinAckDeadline).toBe(true);
    if (res.body) {
      const json = res.json as { text: string; blocks?: unknown };
      return { res, text: json.text, blocks: json.blocks };
    }
    const answer = await bot.sim.waitForResponse({ since });
    expect(answer.outcome).toBe('ephemeral');
    return { res, text: String(answer.body.text), blocks: answer.body.blocks };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-audit-'));
    writeFileSync(
      join(dir, 'runbook.yml'),
      [
        'services:',
        '  - name: barq-api',
        '    platform: { kind: kubernetes, namespace: prod, deployment: barq-api, endpoint: "http://127.0.0.1:9" }',
        '  - name: pager',
        '    platform: { kind: kubernetes, namespace: prod, deployment: pager, endpoint: "http://127.0.0.1:9" }',
        '',
      ].join('\n'),
    );
    bot = await startTestBot({ env: { RUNBOOK_CONFIG: join(dir, 'runbook.yml') } });

    await add({ at: subDays(now, 8), actor: 'U_OLD', action: 'deploy.rollback' });
    await add({ at: subDays(now, 2), actor: 'U_BOB', action: 'deploy.scale', details: { to: 5 } });
    await add({
      at: subHours(now, 3),
      actor: '<!channel>',
      action: '=HYPERLINK("http://evil.example","click")',
      service: 'web',
      environment: null,
      outcome: 'failed',
      details: { note: 'a, "quoted"\nsecond line', cmd: '+1' },
    });
    await add({ at: subHours(now, 2), actor: '@SUM(A1)', action: '-2+3', outcome: 'denied' });
    await add({ at: subHours(now, 1), actor: 'bot', action: 'deploy.restart', outcome: 'succeeded' });
    for (let i = 0; i < 25; i++) {
      await add({
        at: subHours(now, 30 + i),
        service: 'pager',
        actor: 'U_CAROL',
        action: `deploy.step-${i}`,
      });
    }
  });

  afterAll(async () => {
    await bot?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the last 7 days newest first, escaped, within Slack limits', async () => {
    const { res, text, blocks } = await command('audit barq-api');
    expect(res.body).toBe('');
    expect(text).toContain('*Audit log* · `barq-api`');
    expect(text).toContain('records 1–3 of 3 (page 1 of 1), newest first');
    const shown = blockText(blocks);
    const lines = shown.split('\n').filter((l) => l.includes(' · '));
    expect(lines.slice(1, 4).map((l) => /\*([^*]+)\*/.exec(l)?.[1])).toEqual([
      'deploy.restart',
      '-2+3',
      'deploy.scale',
    ]);
    expect(shown).toContain('<@U_BOB>');
    expect(shown).toContain('@SUM(A1)');
    expect(shown).not.toContain('U_OLD');
    expect(shown).toContain('All as CSV: `/deploy audit export barq-api --since 7d`');
    expect((blocks as Block[]).length).toBeLessThanOrEqual(50);
  });

  it('escapes what records carry, and filters by --since across services', async () => {
    const { blocks } = await command('audit --since 4h');
    const shown = blockText(blocks);
    expect(shown).toContain('&lt;!channel&gt;');
    expect(shown).not.toContain('<!channel>');
    expect(shown).toContain('`web`');
    expect(shown).toContain('all services');
    expect(shown).not.toContain('deploy.scale');
    expect(shown).toContain('records 1–3 of 3');
  });

  it('pages: 20 a page, the next page named, a page past the end shows the last', async () => {
    const first = await command('audit pager --since 3d');
    expect(first.text).toContain('records 1–20 of 25 (page 1 of 2)');
    expect(blockText(first.blocks)).toContain('Older: `/deploy audit pager --since 3d --page 2`');
    const second = await command('audit pager --since 3d --page 2');
    expect(second.text).toContain('records 21–25 of 25 (page 2 of 2)');
    expect(blockText(second.blocks)).toContain('deploy.step-24');
    expect(blockText(second.blocks)).not.toContain('Older:');
    expect((await command('audit pager --since=3d --page 9')).text).toContain('(page 2 of 2)');
  });

  it('answers bad input clearly, in the acknowledgement', async () => {
    const bad = await command('audit --since 7x');
    expect(bad.text).toContain(':warning: `--since 7x` is not a duration');
    expect(bad.text).toContain('`7d`');
    expect((await command('audit --since')).text).toContain('`--since` needs a duration');
    expect((await command('audit --page 0')).text).toContain('is not a page number');
    expect((await command('audit a b')).text).toContain('Name at most one service');
    expect((await command('audit <@U123>')).text).toContain('`&lt;@U123&gt;` is not a service name');
    expect((await command('audit export --page 2')).text).toContain(
      'is not an option of `/deploy audit export`',
    );
    const empty = await command('audit nosuch --since 1y');
    expect(empty.text).toContain('No audit records for `nosuch`');
    expect(empty.text).toContain('not a service in the bot');
  });

  it('exports a CSV file into the user’s DM, once, with formulas defused and RFC 4180 quoting', async () => {
    const filesBefore = bot.sim.files.length;
    const { res, text } = await command('audit export --since 30d', 'U_BOB');
    expect(text).toMatch(/^:page_facing_up: Sent 30 audit records for all services since /);
    expect(text).toContain('in a direct message, as a CSV file');

    const files = bot.sim.files.slice(filesBefore);
    expect(files).toHaveLength(1);
    const [file] = files;
    expect(file?.name).toMatch(/^audit-all-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
    expect(file?.completed).toBe(true);
    const dm = bot.sim.workspace.imWith('U_BOB').id;
    expect(file?.shares.map((s) => s.channel)).toEqual([dm]);
    const [message] = bot.sim.messagesIn(dm).filter((m) => m.files?.includes(file?.id ?? ''));
    expect(message?.text).toContain('30 audit records');

    const csv = bot.sim.fileText(file?.id ?? '') ?? '';
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([
      'id',
      'at',
      'actor',
      'action',
      'service',
      'environment',
      'outcome',
      'incident',
      'operation_id',
      'details',
    ]);
    expect(rows).toHaveLength(31);
    // Oldest first; the 8-day-old record is in the 30 days.
    expect(rows[1]?.[3]).toBe('deploy.rollback');
    expect(rows[2]?.[3]).toBe('deploy.step-24');
    expect(rows.at(-1)?.[3]).toBe('deploy.restart');
    const hostile = rows.find((r) => r[4] === 'web');
    expect(hostile?.[2]).toBe('<!channel>');
    expect(hostile?.[3]).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(hostile?.[5]).toBe('');
    expect(JSON.parse(hostile?.[9] ?? '')).toEqual({ note: 'a, "quoted"\nsecond line', cmd: '+1' });
    expect(csv).toContain('"\'=HYPERLINK(""http://evil.example"",""click"")"');
    const denied = rows.find((r) => r[6] === 'denied');
    expect(denied?.[2]).toBe("'@SUM(A1)");
    expect(denied?.[3]).toBe("'-2+3");
    expect(rows[1]?.[1]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    // Slack retrying the command (same trigger id, signed anew) sends no second file.
    const retry = await bot.slack.slashCommand({
      command: '/deploy',
      text: 'audit export --since 30d',
      userId: 'U_BOB',
      triggerId: res.triggerId,
      responseUrl: res.responseUrl,
      timestamp: Number(res.requestHeaders['X-Slack-Request-Timestamp']) + 1,
      retryNum: 1,
    });
    expect(retry.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(bot.sim.files.length).toBe(filesBefore + 1);
  });

  it('exports one service since the default 30 days', async () => {
    const before = bot.sim.files.length;
    const { text } = await command('audit export pager');
    expect(text).toContain('Sent 25 audit records for `pager`');
    const csv = bot.sim.fileText(bot.sim.files[before]?.id ?? '') ?? '';
    expect(
      parseCsv(csv)
        .slice(1)
        .every((r) => r[4] === 'pager'),
    ).toBe(true);
  });

  it('says so, in plain words, when Slack refuses the file', async () => {
    const before = bot.sim.files.filter((f) => f.completed).length;
    bot.sim.injectFault({ method: 'files.completeUploadExternal', error: 'not_in_channel' });
    const { text } = await command('audit export');
    expect(text).toContain(':x: Slack did not take the CSV file (`not_in_channel`), so nothing was sent.');
    expect(bot.sim.files.filter((f) => f.completed).length).toBe(before);
  });
});
