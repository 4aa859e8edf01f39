import { z } from 'zod';
import { builder } from '../../builder';
import type { Context } from '../../context';
import { downloadUrl, type FileStore } from '../../storage/file-store';
import { pathProblem, prefixProblem } from '../../storage/paths';

/** The gateway's file store, or an error that says storage is not set up. */
export function fileStore(ctx: Context): FileStore {
  if (!ctx.files) throw new Error('This gateway has no file store');
  return ctx.files;
}

/** A file path (src/storage/paths.ts): each trick refused with BAD_USER_INPUT. */
export const filePath = z.string().superRefine((path, issues) => {
  const problem = pathProblem(path);
  if (problem) issues.addIssue({ code: 'custom', message: problem });
});

export const filePrefix = z.string().superRefine((prefix, issues) => {
  const problem = prefixProblem(prefix);
  if (problem) issues.addIssue({ code: 'custom', message: problem });
});

export const File = builder.prismaObject('StoredFile', {
  name: 'File',
  description: "A file of the organization, stored at organizations/<organization id>/files/<path>.",
  fields: (t) => ({
    path: t.exposeString('path'),
    size: t.expose('size', { type: 'SafeInt', description: 'Bytes.' }),
    contentType: t.exposeString('contentType', { description: 'As the uploader sent it.' }),
    checksum: t.string({ description: 'SHA-256 of the content, hex.', resolve: (file) => file.checksum ?? '' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    download: t.field({
      type: FileDownload,
      description: 'A signed URL of the gateway (`GET /files/…`) that downloads this file until it expires; relative to the gateway\'s origin.',
      resolve: (file, _args, ctx) => downloadUrl(fileStore(ctx), file, ctx.viewer!.userId),
    }),
  }),
});

const FileDownload = builder.objectRef<{ url: string; expiresAt: Date }>('FileDownload').implement({
  fields: (t) => ({
    url: t.exposeString('url'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});
