module github.com/netjet-go/netjet/bench

go 1.26.8

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/netjet-go/netjet v0.0.0
	github.com/stretchr/testify v1.12.1
	golang.org/x/net v0.62.0
)

require (
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	github.com/tdewolff/parse/v2 v2.25.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace github.com/netjet-go/netjet => ../
