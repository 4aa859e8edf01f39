import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { createMailer } from '../src/mail/mailer';

/** The embedded default: with no SMTP_URL, each message is an .eml file, and its path is printed. */
it('writes a parseable .eml file per message and prints its path', async () => {
  const directory = path.join(mkdtempSync(path.join(tmpdir(), 'tenantgate-mail-')), 'mail');
  const lines: string[] = [];
  const mailer = createMailer({ from: 'tenantgate <no-reply@localhost>', directory, log: (line) => lines.push(line) });
  const { file } = await mailer.send({ to: 'erin@example.org', subject: 'You are invited to join Acme', text: 'Invitation token: abc' });
  expect(file).toBeDefined();
  expect(path.dirname(file!)).toBe(directory);
  expect(file).toMatch(/\.eml$/);
  expect(lines).toEqual([`Mail to erin@example.org ("You are invited to join Acme") written to ${file}`]);
  const parsed = await simpleParser(readFileSync(file!));
  expect(parsed.subject).toBe('You are invited to join Acme');
  expect(parsed.text?.trim()).toBe('Invitation token: abc');
  expect(parsed.from?.text).toContain('no-reply@localhost');
  mailer.close();
});
