// Command imagegen draws the images of the benchmark sites: photograph-like JPEGs (smooth
// light and colour with fine grain, which is what makes a photograph weigh what it does)
// and a small flat PNG logo. The same seed draws the same images, byte for byte.
//
//	go run ./bench/sites/imagegen -out bench/sites/late/img
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// picture is one image to draw.
type picture struct {
	name          string
	width, height int
	grain         float64 // amplitude of the per-pixel noise, out of 255
	sky, ground   color.RGBA
}

// The hero is a wide banner as a home page shows it full width; the article image is a
// content-width photograph. Their grain is what brings them to typical web weights: about
// 150 KB and 60 KB.
var pictures = []picture{
	{"hero.jpg", 1600, 640, 10, color.RGBA{0x2b, 0x4c, 0x7e, 0xff}, color.RGBA{0xe0, 0x8e, 0x45, 0xff}},
	{"article.jpg", 800, 450, 11, color.RGBA{0x8f, 0xb9, 0xa8, 0xff}, color.RGBA{0x3d, 0x5a, 0x3a, 0xff}},
}

func main() {
	out := flag.String("out", "bench/sites/late/img", "directory to write the images to")
	seed := flag.Uint64("seed", 1, "seed of the grain")
	flag.Parse()
	if err := run(*out, *seed); err != nil {
		log.Fatal(err)
	}
}

func run(dir string, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for _, p := range pictures {
		b, err := p.encode(rng)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, p.name), b, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %dx%d, %d KB\n", p.name, p.width, p.height, len(b)>>10)
	}
	b, err := logo()
	if err != nil {
		return err
	}
	fmt.Printf("logo.png: 96x96, %d KB\n", len(b)>>10)
	return os.WriteFile(filepath.Join(dir, "logo.png"), b, 0o644)
}

// encode draws a horizon: the sky fades into the ground, a few soft hills break the line,
// and grain covers everything.
func (p picture) encode(rng *rand.Rand) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, p.width, p.height))
	w, h := float64(p.width), float64(p.height)
	for y := range p.height {
		for x := range p.width {
			fx, fy := float64(x)/w, float64(y)/h
			horizon := 0.55 + 0.08*math.Sin(fx*7.1) + 0.04*math.Sin(fx*17.3+1.3)
			t := 1 / (1 + math.Exp(-(fy-horizon)*18)) // 0 in the sky, 1 on the ground
			light := 0.85 + 0.15*math.Cos((fx-0.3)*3)
			c := [3]float64{
				lerp(float64(p.sky.R), float64(p.ground.R), t),
				lerp(float64(p.sky.G), float64(p.ground.G), t),
				lerp(float64(p.sky.B), float64(p.ground.B), t),
			}
			off := img.PixOffset(x, y)
			for i := range c {
				img.Pix[off+i] = clamp(c[i]*light + rng.NormFloat64()*p.grain)
			}
			img.Pix[off+3] = 0xff
		}
	}
	var b bytes.Buffer
	err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80})
	return b.Bytes(), err
}

// logo is a flat two-colour mark, the kind of image a PNG is for.
func logo() ([]byte, error) {
	img := image.NewPaletted(image.Rect(0, 0, 96, 96), color.Palette{color.Transparent, color.RGBA{0xd9, 0x5d, 0x39, 0xff}})
	for y := range 96 {
		for x := range 96 {
			dx, dy := float64(x)-47.5, float64(y)-47.5
			if r := math.Hypot(dx, dy); r < 44 && (r > 30 || math.Abs(dx) < 8) {
				img.SetColorIndex(x, y, 1)
			}
		}
	}
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

func lerp(a, b, t float64) float64 { return a + (b-a)*t }

func clamp(v float64) uint8 { return uint8(math.Round(math.Max(0, math.Min(255, v)))) }
