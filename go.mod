module github.com/netjet-go/netjet

go 1.25.0

require (
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/stretchr/testify v1.12.1
	github.com/tdewolff/parse/v2 v2.25.0
	golang.org/x/net v0.56.0
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/text v0.41.0 // indirect
)
