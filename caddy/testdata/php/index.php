<?php
// A page that PHP builds on each request, as an application behind Caddy would.
header('Content-Type: text/html; charset=utf-8');
// ?think=MS: the page takes that long to build, as a page that queries a database does; an
// Early Hints response is worth most there.
if (isset($_GET['think'])) {
    usleep(min((int)$_GET['think'], 5000) * 1000);
}
$name = htmlspecialchars($_GET['name'] ?? 'world', ENT_QUOTES);
?>
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>netjet in front of PHP</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js"></script>
</head>
<body>
<h1>Hello, <?= $name ?></h1>
<img src="/hero.png" alt="">
</body>
</html>
