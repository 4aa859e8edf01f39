-- The app schema's own table, declared global as the public ones are (src/tenancy/catalog.ts):
-- test/catalog.test.ts lists every global table of the application schemas with its reason.
COMMENT ON TABLE app.shareable_tables IS '@global: the registry of shareable tables and the columns a WRITE grant may change, the same for every organization';
