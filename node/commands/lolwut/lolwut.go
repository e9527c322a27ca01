package lolwut

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/shoal-dev/shoal/node/command"
)

// LOLWUT, as Redis 7.0: computer art and the version line. Without
// VERSION, or with a version other than 5 and 6, the version line alone
// (lolwutUnstableCommand); VERSION 5 draws Georg Nees's Schotter in
// braille, VERSION 6 a skyline in terminal colours, each from the
// arguments after the version, with Redis's defaults and limits. Both
// drawings are random where Redis's are (rows of squares after the
// second, the buildings), so only their deterministic part compares.

func cmdLolwut(c *command.Ctx) {
	version, args := int64(0), c.Args[1:]
	if len(c.Args) >= 3 && command.EqFold(c.Args[1], "version") {
		v, ok := c.ParseInt(c.Args[2])
		if !ok {
			return
		}
		// Redis prints the version as "%u.0.0" and looks at its first
		// characters: 5 and 6 (as unsigned ints) choose the drawings.
		version, args = int64(uint32(v)), c.Args[3:]
	}
	var art string
	switch version {
	case 5:
		p, ok := lolwutParams(c, args, []int64{66, 8, 12}, []int64{1000, 200, 200})
		if !ok {
			return
		}
		art = renderBraille(drawSchotter(int(p[0]), int(p[1]), int(p[2]))) +
			"\nGeorg Nees - schotter, plotter on paper, 1968. "
	case 6:
		p, ok := lolwutParams(c, args, []int64{80, 20}, []int64{1000, 1000})
		if !ok {
			return
		}
		cv := newCanvas(int(p[0]), int(p[1]), 3)
		drawSkyline(cv)
		art = renderGrays(cv) +
			"\nDedicated to the 8 bit game developers of past and present.\n" +
			"Original 8 bit image from Plaguemon by hikikomori. "
	}
	c.W.Verbatim("txt", art+"Redis ver. "+command.RedisVersion+"\n")
}

// lolwutParams parses the optional integer arguments over defaults (each
// an integer or Redis's error) and clamps them to [1, max].
func lolwutParams(c *command.Ctx, args [][]byte, defaults, maxes []int64) ([]int64, bool) {
	p := append([]int64(nil), defaults...)
	for i := range p {
		if i < len(args) {
			v, ok := c.ParseInt(args[i])
			if !ok {
				return nil, false
			}
			p[i] = v
		}
		p[i] = min(max(p[i], 1), maxes[i])
	}
	return p, true
}

// canvas is LOLWUT's pixel grid (lwCanvas): one colour per pixel.
type canvas struct {
	width, height int
	pixels        []byte
}

func newCanvas(width, height int, bg byte) *canvas {
	cv := &canvas{width: width, height: height, pixels: make([]byte, width*height)}
	for i := range cv.pixels {
		cv.pixels[i] = bg
	}
	return cv
}

func (cv *canvas) set(x, y int, color byte) {
	if x < 0 || x >= cv.width || y < 0 || y >= cv.height {
		return
	}
	cv.pixels[x+y*cv.width] = color
}

func (cv *canvas) get(x, y int) byte {
	if x < 0 || x >= cv.width || y < 0 || y >= cv.height {
		return 0
	}
	return cv.pixels[x+y*cv.width]
}

// line is Bresenham's line from (x1, y1) to (x2, y2) (lwDrawLine).
func (cv *canvas) line(x1, y1, x2, y2 int, color byte) {
	dx, dy := abs(x2-x1), abs(y2-y1)
	sx, sy := -1, -1
	if x1 < x2 {
		sx = 1
	}
	if y1 < y2 {
		sy = 1
	}
	err := dx - dy
	for {
		cv.set(x1, y1, color)
		if x1 == x2 && y1 == y2 {
			return
		}
		e2 := err * 2
		if e2 > -dy {
			err -= dy
			x1 += sx
		}
		if e2 < dx {
			err += dx
			y1 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// square draws a square centred on (x, y), rotated by angle
// (lwDrawSquare), in C's float arithmetic.
func (cv *canvas) square(x, y int, size, angle float32, color byte) {
	var px, py [4]int
	size = float32(float64(size) / 1.4142135623)
	size = float32(math.Round(float64(size)))
	k := float32(math.Pi/4 + float64(angle))
	for j := 0; j < 4; j++ {
		px[j] = int(math.Round(math.Sin(float64(k))*float64(size) + float64(x)))
		py[j] = int(math.Round(math.Cos(float64(k))*float64(size) + float64(y)))
		k = float32(float64(k) + math.Pi/2)
	}
	for j := 0; j < 4; j++ {
		cv.line(px[j], py[j], px[(j+1)%4], py[(j+1)%4], color)
	}
}

// drawSchotter is lwDrawSchotter: squares_per_row by squares_per_col
// squares, increasingly displaced and rotated at random from the third
// row on.
func drawSchotter(consoleCols, perRow, perCol int) *canvas {
	width := consoleCols * 2
	padding := 0
	if width > 4 {
		padding = 2
	}
	side := float32(width-padding*2) / float32(perRow)
	height := int(side*float32(perCol) + float32(padding*2))
	cv := newCanvas(width, height, 0)
	for y := 0; y < perCol; y++ {
		for x := 0; x < perRow; x++ {
			sx := int(float32(x)*side + side/2 + float32(padding))
			sy := int(float32(y)*side + side/2 + float32(padding))
			var angle float32
			if y > 1 {
				r1 := rand.Float32() / float32(perCol) * float32(y)
				r2 := rand.Float32() / float32(perCol) * float32(y)
				r3 := rand.Float32() / float32(perCol) * float32(y)
				if rand.IntN(2) == 1 {
					r1 = -r1
				}
				if rand.IntN(2) == 1 {
					r2 = -r2
				}
				if rand.IntN(2) == 1 {
					r3 = -r3
				}
				angle = r1
				sx = int(float32(sx) + r2*side/3)
				sy = int(float32(sy) + r3*side/3)
			}
			cv.square(sx, sy, side, angle, 1)
		}
	}
	return cv
}

// renderBraille renders 2x4 pixels per braille character (renderCanvas of
// lolwut5.c).
func renderBraille(cv *canvas) string {
	var b strings.Builder
	for y := 0; y < cv.height; y += 4 {
		for x := 0; x < cv.width; x += 2 {
			var bits rune
			for i, p := range [8][2]int{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}, {0, 3}, {1, 3}} {
				if cv.get(x+p[0], y+p[1]) != 0 {
					bits |= 1 << i
				}
			}
			b.WriteRune(0x2800 + bits)
		}
		if y != cv.height-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// renderGrays renders one coloured space per pixel (renderCanvas of
// lolwut6.c).
func renderGrays(cv *canvas) string {
	var b strings.Builder
	for y := 0; y < cv.height; y++ {
		for x := 0; x < cv.width; x++ {
			ce := "0;30;40m" // black, and anything else
			switch cv.get(x, y) {
			case 1:
				ce = "0;90;100m"
			case 2:
				ce = "0;37;47m"
			case 3:
				ce = "0;97;107m"
			}
			b.WriteString("\033[" + ce + " \033[0m")
		}
		if y != cv.height-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// skyscraper is one building of the skyline.
type skyscraper struct {
	xoff, width, height int
	windows             bool
	color               byte
}

// drawSkyscraper is generateSkyscraper: a building from the bottom row up,
// its top corners cut, with random windows.
func (cv *canvas) drawSkyscraper(si skyscraper) {
	starty := cv.height - 1
	endy := starty - si.height + 1
	for y := starty; y >= endy; y-- {
		for x := si.xoff; x < si.xoff+si.width; x++ {
			if y == endy && (x <= si.xoff+1 || x >= si.xoff+si.width-2) {
				continue
			}
			color := si.color
			if si.windows && x > si.xoff+1 && x < si.xoff+si.width-2 && y > endy+1 && y < starty-1 {
				relx, rely := x-(si.xoff+1), y-(endy+1)
				if relx/2%2 != 0 && rely%2 != 0 {
					for color == si.color {
						color = byte(1 + rand.IntN(2))
					}
					if relx%2 != 0 {
						color = cv.get(x-1, y)
					}
				}
			}
			cv.set(x, y, color)
		}
	}
}

// drawSkyline is generateSkyline: two rows of buildings in grays, then
// black ones with windows in front.
func drawSkyline(cv *canvas) {
	for color := byte(2); color >= 1; color-- {
		for offset := -10; offset < cv.width; {
			offset += rand.IntN(8)
			si := skyscraper{xoff: offset, width: 10 + rand.IntN(9), color: color}
			if color == 2 {
				si.height = cv.height/2 + rand.IntN(cv.height)/2
			} else {
				si.height = cv.height/2 + rand.IntN(cv.height)/3
			}
			cv.drawSkyscraper(si)
			if color == 2 {
				offset += si.width / 2
			} else {
				offset += si.width + 1
			}
		}
	}
	for offset := -10; offset < cv.width; {
		offset += rand.IntN(8)
		si := skyscraper{xoff: offset, width: 5 + rand.IntN(14), windows: true}
		if si.width%4 != 0 {
			si.width += si.width % 3
		}
		si.height = cv.height/3 + rand.IntN(cv.height)/2
		cv.drawSkyscraper(si)
		offset += si.width + 5
	}
}
