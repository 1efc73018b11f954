// Typed handles on the local fakes that the root hook starts in-process for the test run (see devtools/fakes/).
// Each domain adds its fake here and starts it in test/setup/root-hooks.ts on the port its ELATEME_FAKE_*_URL names.
export {};
