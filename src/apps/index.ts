// Long-running apps (Marathon's model): what the rest of Gantry uses of src/apps/. A client of the pool
// through cluster/index.ts only, like batch/ and ci/.
export * from './definition/index.ts';
export * from './instances/index.ts';
