// Package headless holds the switches that the project's browser tests and benchmarks start
// Chromium with: headless, as root in a container, on a machine whose only network is
// loopback. Without the background-networking switches, Chromium keeps trying hosts it cannot
// reach; without --disable-quic, it would race HTTP/3 against the HTTP/2 the tests look at.
package headless

// Switch is one command-line switch of Chromium: --Name, or --Name=Value.
type Switch struct {
	Name  string
	Value any // true for a switch without a value
}

// Switches are the switches every browser of the project starts with. Callers add a profile
// folder and the certificate to trust.
var Switches = []Switch{
	{"headless", true},
	{"no-sandbox", true},
	{"disable-gpu", true},
	{"no-first-run", true},
	{"disable-background-networking", true},
	{"disable-component-update", true},
	{"disable-sync", true},
	{"disable-quic", true},
}
