import { builder } from '../builder';

// Every root field needs a verified member unless it says otherwise. Type-level
// scopes run before each field of the type, so a new field cannot forget them.
builder.queryType({ authScopes: { member: true } });
builder.mutationType({ authScopes: { member: true } });
