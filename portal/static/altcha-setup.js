// Starts the proof-of-work widget (vendor/altcha-*/altcha.min.js, loaded just before this module):
// the CSP build bundles no worker, so the portal's PBKDF2 worker file is registered here, the widget's
// texts become the portal's (translated, in the widget's data-strings) for the page's language, then
// each widget solves its challenge at once; its hidden "altcha" field carries the solution.
const here = new URL(import.meta.url);
const worker = new URL(here.searchParams.get("worker") || "", here);

globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(worker));
document.querySelectorAll("altcha-widget[data-strings]").forEach((widget) => {
  const strings = { ...globalThis.$altcha.i18n.get("en"), ...JSON.parse(widget.dataset.strings) };
  globalThis.$altcha.i18n.set(document.documentElement.lang || "en", strings);
});
customElements.whenDefined("altcha-widget").then(() => {
  document.querySelectorAll("altcha-widget").forEach((widget) => widget.verify());
});
