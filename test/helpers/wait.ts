/** Tests wait on conditions with the same helper the benches and support code use. */
export * from '../../support/wait';
