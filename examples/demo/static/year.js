// A deferred script: it runs once the document is parsed.
document.getElementById("year").textContent = new Date().getFullYear();
