// Excel's side of the add-in, for a task pane opened in a plain browser: once office.js has
// loaded, it reports an Excel host on the web, every requirement set as supported, and records
// the functions the page associates.
(() => {
  window.__associated = [];
  window.__excelRuns = 0;
  const info = { host: "Excel", platform: "OfficeOnline" };
  const patch = () => {
    Office.onReady = (callback) => {
      if (callback) callback(info);
      return Promise.resolve(info);
    };
    Office.context = Office.context || {};
    Office.context.requirements = { isSetSupported: () => true };
    Office.context.displayLanguage = "en-US";
    Office.actions = { associate: () => {} };
    window.CustomFunctions = { associate: (id) => window.__associated.push(id) };
    window.Excel = { run: () => { window.__excelRuns += 1; return new Promise(() => {}); } };
  };
  // A script's load event does not bubble, but a capturing listener on the document sees it right
  // after the script has run. office.js goes on initializing in the scripts it loads itself (and
  // replaces Office.context there), so the host's answers are set again after each of them.
  document.addEventListener("load", (event) => {
    const node = event.target;
    if (node.tagName === "SCRIPT" && /\/office-js\//.test(node.src || "")) patch();
  }, true);
})();
