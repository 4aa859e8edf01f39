/**
 * Imported first by bench/run.ts, before anything under src/ is loaded: the
 * schema reads NODE_ENV when its module is evaluated (Pothos's unused-query
 * tracking is on outside production), and a benchmark should measure the
 * gateway as it is deployed. An explicit NODE_ENV is left alone.
 */
process.env.NODE_ENV ??= 'production';

export {};
