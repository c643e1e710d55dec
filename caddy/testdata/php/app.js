document.documentElement.dataset.ran = "yes";
