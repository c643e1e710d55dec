// A classic script: it blocks the parser, so the sooner it arrives the better.
document.documentElement.classList.add("js");
