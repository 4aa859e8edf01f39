import { GraphQLError } from 'graphql';
import { builder } from '../../builder';
import { FileUpload } from '../../storage/upload';

/**
 * A file sent as a part of a GraphQL multipart request, which
 * src/plugins/use-streaming-upload.ts puts in the variables as a FileUpload.
 * Input only; never a literal in the document.
 */
builder.scalarType('Upload', {
  description: 'A file of a multipart request (graphql-multipart-request-spec): `curl -F operations=… -F map=… -F 0=@file`.',
  serialize: () => {
    throw new GraphQLError('Upload is an input type');
  },
  parseValue: (value) => {
    if (value instanceof FileUpload) return value;
    throw new GraphQLError('Upload must be a file part of a multipart request', { extensions: { code: 'BAD_USER_INPUT' } });
  },
  parseLiteral: () => {
    throw new GraphQLError('Upload must be a file part of a multipart request, not a literal', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});
