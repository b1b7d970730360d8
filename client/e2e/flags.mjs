// CHROMIUM_ARGS are the Chromium flags every browser test of the client uses, the same as the e2e harness
// (testdata/clients/browser-seed.js): no sandbox (containers, root), no GPU, no QUIC, no first-run UI and no
// background traffic to Google services.
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
