import { builder } from '../../builder';
import { filePath, filePrefix } from './file.type';

builder.queryFields((t) => ({
  files: t.prismaConnection(
    {
      type: 'StoredFile',
      description: "The organization's files, by path (byte order).",
      cursor: 'organizationId_path',
      args: { prefix: t.arg.string({ description: 'Only paths that start with this, e.g. `reports/`.', validate: filePrefix }) },
      // PERF: a prefix is a range of the primary key (path is COLLATE "C"); startsWith keeps it exact.
      resolve: (query, _root, args, ctx) =>
        ctx.tenantDb().storedFile.findMany({
          ...query,
          where: { status: 'READY', ...(args.prefix ? { path: { gte: args.prefix, startsWith: args.prefix } } : {}) },
          orderBy: { path: 'asc' },
        }),
    },
    {},
  ),
  file: t.prismaField({
    type: 'StoredFile',
    nullable: true,
    description: 'A file by its path; null when there is none.',
    args: { path: t.arg.string({ required: true, validate: filePath }) },
    resolve: (query, _root, args, ctx) =>
      ctx.tenantDb().storedFile.findFirst({ ...query, where: { path: args.path, status: 'READY' } }),
  }),
}));
