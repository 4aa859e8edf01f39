import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';

/**
 * Outgoing mail: invitations, domain-verification links, notices to owners.
 * Through SMTP at SMTP_URL (nodemailer); with none, each message is written as
 * an .eml file under `<dataDir>/mail/` and its path printed, so that `npm start`
 * works with no mail server (open the file in a mail client, or read the link in it).
 */

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<{ messageId: string; file?: string }>;
  close(): void;
}

export interface MailerOptions {
  /** SMTP_URL. @default none: .eml files */
  smtpUrl?: string;
  /** MAIL_FROM. */
  from: string;
  /** Where .eml files go when there is no SMTP_URL. @default .data/mail */
  directory?: string;
  /** Where the path of each written file is printed. @default console.log */
  log?: (line: string) => void;
}

export function createMailer({ smtpUrl, from, directory = path.join('.data', 'mail'), log = console.log }: MailerOptions): Mailer {
  if (smtpUrl) {
    // Bounded: a mail server that hangs must not hold a request for minutes.
    const transport = nodemailer.createTransport(smtpUrl, { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 } as never);
    return {
      async send(message) {
        const info = await transport.sendMail({ from, ...message });
        return { messageId: info.messageId };
      },
      close: () => transport.close(),
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(message) {
      const info = await transport.sendMail({ from, ...message });
      await mkdir(directory, { recursive: true });
      const file = path.join(directory, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}.eml`);
      await writeFile(file, info.message as Buffer);
      log(`Mail to ${message.to} ("${message.subject}") written to ${file}`);
      return { messageId: info.messageId, file };
    },
    close: () => transport.close(),
  };
}
