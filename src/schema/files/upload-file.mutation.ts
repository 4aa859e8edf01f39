import { z } from 'zod';
import type { YogaInitialContext } from 'graphql-yoga';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { uploadFile, type StoredFileRow } from '../../storage/file-store';
import { File, filePath, fileStore } from './file.type';

const UploadFileInput = builder.inputType('UploadFileInput', {
  fields: (t) => ({
    path: t.string({ required: true, description: 'Where, e.g. `reports/2026/q4.pdf`: relative, no `.`/`..` segments, no `%`, `\\` or control characters, at most 900 bytes.', validate: filePath }),
    file: t.field({ type: 'Upload', required: true }),
    size: t.field({
      type: 'SafeInt',
      description: "The file's bytes, if known: checked against the plan before the file is read, and the upload fails if the file differs.",
      validate: z.number().int().min(0),
    }),
  }),
});

const UploadFilePayload = payloadType<{ file: StoredFileRow }>('UploadFilePayload', {
  fields: (t) => ({ file: t.field({ type: File, resolve: (payload) => payload.file }) }),
});

builder.mutationFields((t) => ({
  uploadFile: t.field({
    type: UploadFilePayload,
    description:
      'Stores a file sent as a GraphQL multipart request. Refused before the file is read when the plan\'s file limit or the STORAGE quota is exceeded (FILE_TOO_LARGE, QUOTA_EXCEEDED); ALREADY_EXISTS for a path in use.',
    args: { input: t.arg({ type: UploadFileInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      // Yoga merges its initial context (the request) into ours.
      const length = (ctx as unknown as YogaInitialContext).request.headers.get('content-length');
      try {
        const file = await uploadFile(ctx.tenantDb(), fileStore(ctx), ctx.viewer!.organizationId, ctx.viewer!.userId, {
          path: input.path,
          file: input.file,
          size: input.size,
          requestBytes: length && /^\d+$/.test(length) ? Number(length) : null,
        });
        return { file };
      } catch (error) {
        input.file.discard();
        throw error;
      }
    },
  }),
}));
