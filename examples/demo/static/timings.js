// A module script: it lists when each resource started, relative to the page's first byte.
addEventListener("load", () => {
  const [page] = performance.getEntriesByType("navigation");
  const list = document.getElementById("timings");
  for (const r of performance.getEntriesByType("resource")) {
    const item = document.createElement("li");
    item.textContent = `${new URL(r.name).pathname}: ${(r.startTime - page.responseStart).toFixed(1)} ms`;
    list.append(item);
  }
});
