// Excel's side of the add-in, for a task pane opened in a plain browser: once office.js has
// loaded, it reports an Excel host on the web, every requirement set as supported, and records
// the functions the page associates.
(() => {
  window.__associated = [];
  window.__excelRuns = 0;
  const patch = () => {
    Office.onReady = (callback) => {
      const info = { host: "Excel", platform: "OfficeOnline" };
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
  // a script's load event does not bubble, but a capturing listener on the document sees it, right
  // after office.js has run and before the next script does
  document.addEventListener("load", (event) => {
    const node = event.target;
    if (node.tagName === "SCRIPT" && /office-js\/.*office\.js$/.test(node.src || "")) patch();
  }, true);
})();
