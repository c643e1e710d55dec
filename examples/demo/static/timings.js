// A module script: it lists how the browser came to fetch each resource. "early-hints" means
// from the 103 Early Hints response, while the server was still building the page.
addEventListener("load", () => {
  const list = document.getElementById("timings");
  for (const r of performance.getEntriesByType("resource")) {
    const item = document.createElement("li");
    item.textContent = `${new URL(r.name).pathname}: ${r.initiatorType}`;
    list.append(item);
  }
});
