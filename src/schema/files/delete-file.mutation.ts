import { builder } from '../../builder';
import { payloadType } from '../payload';
import { deleteFile } from '../../storage/file-store';
import { filePath, fileStore } from './file.type';

const DeleteFileInput = builder.inputType('DeleteFileInput', {
  fields: (t) => ({ path: t.string({ required: true, validate: filePath }) }),
});

const DeleteFilePayload = payloadType<{ deletedPath: string }>('DeleteFilePayload', {
  fields: (t) => ({ deletedPath: t.exposeString('deletedPath') }),
});

builder.mutationFields((t) => ({
  deleteFile: t.field({
    type: DeleteFilePayload,
    description: 'Deletes a file and gives its bytes back to the STORAGE quota. NOT_FOUND when there is none.',
    args: { input: t.arg({ type: DeleteFileInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await deleteFile(ctx.tenantDb(), fileStore(ctx), ctx.viewer!.organizationId, input.path);
      return { deletedPath: input.path };
    },
  }),
}));
