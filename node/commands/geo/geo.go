package geo

import (
	"math"
	"slices"
	"strconv"

	"github.com/shoal-dev/shoal/node/command"
	zsetcmd "github.com/shoal-dev/shoal/node/commands/zset"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/geohash"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
)

const (
	errUnit       = "ERR unsupported unit provided. please use M, KM, FT, MI"
	errDecode     = "ERR could not decode requested zset member"
	errNegRadius  = "ERR radius cannot be negative"
	errNegBox     = "ERR height or width cannot be negative"
	errCount      = "ERR COUNT must be > 0"
	errAnyNoCount = "ERR the ANY argument requires COUNT argument"
)

// lonLat parses a longitude and a latitude (extractLongLatOrReply).
func lonLat(c *command.Ctx, args [][]byte) (lon, lat float64, ok bool) {
	if lon, ok = c.ParseFloat(args[0]); !ok {
		return 0, 0, false
	}
	if lat, ok = c.ParseFloat(args[1]); !ok {
		return 0, 0, false
	}
	if lon < geohash.LongMin || lon > geohash.LongMax || lat < geohash.LatMin || lat > geohash.LatMax {
		c.Error("ERR invalid longitude,latitude pair " + cFloat(lon) + "," + cFloat(lat))
		return 0, 0, false
	}
	return lon, lat, true
}

// cFloat is C's "%f".
func cFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}

// unit is extractUnitOrReply: meters per unit.
func unit(c *command.Ctx, arg []byte) (float64, bool) {
	switch {
	case command.EqFold(arg, "m"):
		return 1, true
	case command.EqFold(arg, "km"):
		return 1000, true
	case command.EqFold(arg, "ft"):
		return 0.3048, true
	case command.EqFold(arg, "mi"):
		return 1609.34, true
	}
	c.Error(errUnit)
	return 0, false
}

func parseDouble(c *command.Ctx, arg []byte, msg string) (float64, bool) {
	f, ok := command.ParseDouble(arg)
	if !ok {
		c.Error(msg)
	}
	return f, ok
}

// distance is extractDistanceOrReply: <radius> <unit>.
func distance(c *command.Ctx, args [][]byte, s *geohash.Shape) bool {
	r, ok := parseDouble(c, args[0], "ERR need numeric radius")
	if !ok {
		return false
	}
	if r < 0 {
		c.Error(errNegRadius)
		return false
	}
	s.Radius = r
	s.Conversion, ok = unit(c, args[1])
	return ok
}

// box is extractBoxOrReply: <width> <height> <unit>.
func box(c *command.Ctx, args [][]byte, s *geohash.Shape) bool {
	w, ok := parseDouble(c, args[0], "ERR need numeric width")
	if !ok {
		return false
	}
	h, ok := parseDouble(c, args[1], "ERR need numeric height")
	if !ok {
		return false
	}
	if h < 0 || w < 0 {
		c.Error(errNegBox)
		return false
	}
	s.Width, s.Height = w, h
	s.Conversion, ok = unit(c, args[2])
	return ok
}

// appendDistance is addReplyDoubleDistance's "%.4f".
func replyDistance(c *command.Ctx, d float64) {
	var buf [40]byte
	c.W.Bulk(strconv.AppendFloat(buf[:0], d, 'f', 4, 64))
}

// humanLongDouble is Redis's ld2string(LD_STR_HUMAN): "%.17Lf" without
// trailing zeroes (and "-0" as "0").
func humanLongDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', 17, 64)
	i := len(s)
	for i > 0 && s[i-1] == '0' {
		i--
	}
	if i > 0 && s[i-1] == '.' {
		i--
	}
	s = s[:i]
	if s == "-0" {
		s = "0"
	}
	return s
}

// replyCoord is addReplyHumanLongDouble: a bulk string in RESP2, a double
// in RESP3, both in human form.
func replyCoord(c *command.Ctx, f float64) {
	s := humanLongDouble(f)
	if c.W.Proto() >= 3 {
		c.W.Raw([]byte("," + s + "\r\n"))
		return
	}
	c.W.BulkString(s)
}

func zsetOf(e *keyspace.Entry) *zset.ZSet {
	if e == nil {
		return nil
	}
	return e.Object().(*zset.ZSet)
}

// memberPos is longLatFromMember.
func memberPos(z *zset.ZSet, member []byte) (lon, lat float64, ok bool) {
	score, ok := z.Score(member)
	if !ok {
		return 0, 0, false
	}
	return geohash.DecodeScore(score)
}

// cmdGeoadd is GEOADD key [NX|XX] [CH] lon lat member ...: a ZADD of the
// members scored by their geohash, propagated as that ZADD.
func cmdGeoadd(c *command.Ctx) {
	args := c.Args
	xx, nx := false, false
	i := 2
	for ; i < len(args); i++ {
		switch a := args[i]; {
		case command.EqFold(a, "nx"):
			nx = true
		case command.EqFold(a, "xx"):
			xx = true
		case command.EqFold(a, "ch"):
		default:
			goto parsed
		}
	}
parsed:
	if (len(args)-i)%3 != 0 || (xx && nx) {
		c.Error(command.ErrSyntax)
		return
	}
	elements := (len(args) - i) / 3
	zargs := make([][]byte, 0, i+2*elements)
	zargs = append(zargs, []byte("zadd"))
	zargs = append(zargs, args[1:i]...)
	scores := make([]byte, 0, 16*elements)
	for j := 0; j < elements; j++ {
		p := args[i+3*j:]
		lon, lat, ok := lonLat(c, p)
		if !ok {
			return
		}
		h, _ := geohash.Encode(lon, lat, geohash.StepMax)
		n := len(scores)
		scores = strconv.AppendUint(scores, geohash.Align52(h), 10)
		zargs = append(zargs, scores[n:len(scores):len(scores)], p[2])
	}
	orig := c.Args
	c.Args = zargs
	c.Rewrite(zargs...)
	zsetcmd.Zadd(c)
	c.Args = orig
}

// cmdGeodist is GEODIST key member1 member2 [unit].
func cmdGeodist(c *command.Ctx) {
	toMeter := 1.0
	if len(c.Args) == 5 {
		var ok bool
		if toMeter, ok = unit(c, c.Args[4]); !ok {
			return
		}
	} else if len(c.Args) > 5 {
		c.Error(command.ErrSyntax)
		return
	}
	e, ok := c.ReadType(c.Args[1], keyspace.TypeZSet)
	if !ok {
		return
	}
	if e == nil {
		c.W.Null()
		return
	}
	z := zsetOf(e)
	s1, ok1 := z.Score(c.Args[2])
	s2, ok2 := z.Score(c.Args[3])
	if !ok1 || !ok2 {
		c.W.Null()
		return
	}
	lon1, lat1, ok1 := geohash.DecodeScore(s1)
	lon2, lat2, ok2 := geohash.DecodeScore(s2)
	if !ok1 || !ok2 {
		c.W.Null()
		return
	}
	replyDistance(c, geohash.Distance(lon1, lat1, lon2, lat2)/toMeter)
}

const geoAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// cmdGeohash is GEOHASH key member ...: 11-character standard geohashes.
func cmdGeohash(c *command.Ctx) {
	e, ok := c.ReadType(c.Args[1], keyspace.TypeZSet)
	if !ok {
		return
	}
	eachMember(c, zsetOf(e), c.W.Null, func(lon, lat float64) {
		h := geohash.EncodeStandard(lon, lat, 26)
		var buf [11]byte
		for i := 0; i < 11; i++ {
			idx := 0
			if i < 10 {
				idx = int(h.Bits >> (52 - (i+1)*5) & 0x1f)
			}
			buf[i] = geoAlphabet[idx]
		}
		c.W.Bulk(buf[:])
	})
}

// eachMember replies an array of one element per member argument: missing
// (or undecodable) members get missing(), the others found(lon, lat).
func eachMember(c *command.Ctx, z *zset.ZSet, missing func(), found func(lon, lat float64)) {
	c.W.ArrayLen(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		var lon, lat float64
		ok := z != nil
		if ok {
			lon, lat, ok = memberPos(z, m)
		}
		if !ok {
			missing()
			continue
		}
		found(lon, lat)
	}
}

// cmdGeopos is GEOPOS key member ...: [lon, lat] or a null array each.
func cmdGeopos(c *command.Ctx) {
	e, ok := c.ReadType(c.Args[1], keyspace.TypeZSet)
	if !ok {
		return
	}
	eachMember(c, zsetOf(e), c.W.NullArray, func(lon, lat float64) {
		c.W.ArrayLen(2)
		replyCoord(c, lon)
		replyCoord(c, lat)
	})
}

// The search variants (georadiusGeneric's flags).
const (
	radiusCoords   = 1 << iota // GEORADIUS: around coordinates
	radiusMember               // GEORADIUSBYMEMBER: around a member
	radiusNoStore              // the _RO variants
	geoSearch                  // GEOSEARCH argument syntax
	geoSearchStore             // GEOSEARCHSTORE
)

func cmdGeoradius(c *command.Ctx)            { searchGeneric(c, 1, radiusCoords) }
func cmdGeoradius_ro(c *command.Ctx)         { searchGeneric(c, 1, radiusCoords|radiusNoStore) }
func cmdGeoradiusbymember(c *command.Ctx)    { searchGeneric(c, 1, radiusMember) }
func cmdGeoradiusbymember_ro(c *command.Ctx) { searchGeneric(c, 1, radiusMember|radiusNoStore) }
func cmdGeosearch(c *command.Ctx)            { searchGeneric(c, 1, geoSearch) }
func cmdGeosearchstore(c *command.Ctx)       { searchGeneric(c, 2, geoSearch|geoSearchStore) }

// point is a search result (geoPoint).
type point struct {
	lon, lat, dist, score float64
	member                []byte
}

const (
	sortNone = iota
	sortAsc
	sortDesc
)

// searchOpts are the parsed options of a search.
type searchOpts struct {
	withDist, withHash, withCoord bool
	storeKey                      []byte
	storeDist                     bool
	sort                          int
	any                           bool
	count                         int64
}

// searchGeneric is georadiusGeneric: parse, find the points of the 9
// cells that fall in the shape, sort, and reply or store them.
func searchGeneric(c *command.Ctx, srcIdx, flags int) {
	args := c.Args
	e, ok := c.ReadType(args[srcIdx], keyspace.TypeZSet)
	if !ok {
		return
	}
	z := zsetOf(e)
	var shape geohash.Shape
	var base int
	var o searchOpts
	switch {
	case flags&radiusCoords != 0:
		base = 6
		if shape.Lon, shape.Lat, ok = lonLat(c, args[2:]); !ok {
			return
		}
		if !distance(c, args[base-2:], &shape) {
			return
		}
	case flags&radiusMember != 0 && z == nil:
		base = 5
	case flags&radiusMember != 0:
		base = 5
		if shape.Lon, shape.Lat, ok = memberPos(z, args[2]); !ok {
			c.Error(errDecode)
			return
		}
		if !distance(c, args[base-2:], &shape) {
			return
		}
	default:
		base = 2
		if flags&geoSearchStore != 0 {
			base = 3
			o.storeKey = args[1]
		}
	}
	fromMember, fromLoc, byRadius, byBox := false, false, false, false
	rest := args[base:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		more := len(rest) - 1 - i
		switch {
		case command.EqFold(a, "withdist"):
			o.withDist = true
		case command.EqFold(a, "withhash"):
			o.withHash = true
		case command.EqFold(a, "withcoord"):
			o.withCoord = true
		case command.EqFold(a, "any"):
			o.any = true
		case command.EqFold(a, "asc"):
			o.sort = sortAsc
		case command.EqFold(a, "desc"):
			o.sort = sortDesc
		case command.EqFold(a, "count") && more >= 1:
			n, ok := c.ParseInt(rest[i+1])
			if !ok {
				return
			}
			if n <= 0 {
				c.Error(errCount)
				return
			}
			o.count = n
			i++
		case command.EqFold(a, "store") && more >= 1 && flags&(radiusNoStore|geoSearch) == 0:
			o.storeKey, o.storeDist = rest[i+1], false
			i++
		case command.EqFold(a, "storedist") && more >= 1 && flags&(radiusNoStore|geoSearch) == 0:
			o.storeKey, o.storeDist = rest[i+1], true
			i++
		case command.EqFold(a, "storedist") && flags&geoSearch != 0 && flags&geoSearchStore != 0:
			o.storeDist = true
		case command.EqFold(a, "frommember") && more >= 1 && flags&geoSearch != 0 && !fromLoc:
			if z != nil {
				if shape.Lon, shape.Lat, ok = memberPos(z, rest[i+1]); !ok {
					c.Error(errDecode)
					return
				}
			}
			fromMember = true
			i++
		case command.EqFold(a, "fromlonlat") && more >= 2 && flags&geoSearch != 0 && !fromMember:
			if shape.Lon, shape.Lat, ok = lonLat(c, rest[i+1:]); !ok {
				return
			}
			fromLoc = true
			i += 2
		case command.EqFold(a, "byradius") && more >= 2 && flags&geoSearch != 0 && !byBox:
			if !distance(c, rest[i+1:], &shape) {
				return
			}
			shape.Box = false
			byRadius = true
			i += 2
		case command.EqFold(a, "bybox") && more >= 3 && flags&geoSearch != 0 && !byRadius:
			if !box(c, rest[i+1:], &shape) {
				return
			}
			shape.Box = true
			byBox = true
			i += 3
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	if o.storeKey != nil && (o.withDist || o.withHash || o.withCoord) {
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		c.Error("ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
		return
	}
	if flags&geoSearch != 0 && !fromMember && !fromLoc {
		c.Error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + string(args[0]))
		return
	}
	if flags&geoSearch != 0 && !byRadius && !byBox {
		c.Error("ERR exactly one of BYRADIUS and BYBOX can be specified for " + string(args[0]))
		return
	}
	if o.any && o.count == 0 {
		c.Error(errAnyNoCount)
		return
	}
	if z == nil {
		if o.storeKey != nil {
			deleteStore(c, o.storeKey)
			c.W.Int(0)
		} else {
			c.W.ArrayLen(0)
		}
		return
	}
	if o.count != 0 && o.sort == sortNone && !o.any {
		o.sort = sortAsc
	}
	limit := 0
	if o.any {
		limit = int(min(o.count, math.MaxInt32))
	}
	// Most searches find a few dozen points: their buffers live on the
	// stack (the members alias the set, as below).
	var ptsBuf [32]point
	var cellBuf [64]zset.Entry
	pts := membersOfAllNeighbors(z, &shape, limit, ptsBuf[:0], cellBuf[:0])
	if len(pts) == 0 && o.storeKey == nil {
		c.W.ArrayLen(0)
		return
	}
	returned := len(pts)
	if o.count != 0 && int64(returned) > o.count {
		returned = int(o.count)
	}
	sortPoints(pts, o.sort, returned)
	if o.storeKey == nil {
		replyPoints(c, pts[:returned], &o, shape.Conversion)
		return
	}
	storePoints(c, pts[:returned], &o, shape.Conversion, flags)
}

// deleteStore deletes the store key of a search with no source.
func deleteStore(c *command.Ctx, key []byte) {
	if e := c.LookupWrite(key); e != nil {
		c.DB.DeleteEntry(e)
		c.Modified(key)
		c.Notify(command.NotifyGeneric, "del", key)
	}
}

// membersOfAllNeighbors walks the centre cell and its 8 neighbours (a
// cell the same as the previous one walked is skipped) and collects the
// points inside the shape, stopping at limit (COUNT ANY) when not 0.
// pts and buf are buffers to append to (the points, a cell's entries).
func membersOfAllNeighbors(z *zset.ZSet, s *geohash.Shape, limit int, pts []point, buf []zset.Entry) []point {
	r := s.Areas()
	cells := [9]geohash.Bits{r.Hash, r.Neighbors.North, r.Neighbors.South, r.Neighbors.East, r.Neighbors.West,
		r.Neighbors.NorthEast, r.Neighbors.NorthWest, r.Neighbors.SouthEast, r.Neighbors.SouthWest}
	last := 0
	for i, cell := range cells {
		if cell.IsZero() {
			continue
		}
		if last != 0 && cell == cells[last] {
			continue
		}
		if len(pts) > 0 && limit > 0 && len(pts) >= limit {
			break
		}
		min := geohash.Align52(cell)
		cell.Bits++
		max := geohash.Align52(cell)
		buf = z.AppendRangeByScore(buf[:0], zset.ScoreRange{Min: float64(min), Max: float64(max), MaxEx: true}, false, 0, -1)
		// Equal scores are equal positions: the last test is reused.
		prev, lon, lat, d, in := math.NaN(), 0.0, 0.0, 0.0, false
		for _, en := range buf {
			if en.Score != prev {
				prev = en.Score
				var ok bool
				if lon, lat, ok = geohash.DecodeScore(en.Score); !ok {
					in = false
					continue
				}
				d, in = s.Contains(lon, lat)
			}
			if !in {
				continue
			}
			// Members alias the set, unchanged until the reply or the
			// store (which copies them) is done.
			pts = append(pts, point{lon: lon, lat: lat, dist: d, score: en.Score, member: en.Member})
			if limit > 0 && len(pts) >= limit {
				break
			}
		}
		last = i
	}
	return pts
}

// sortPoints orders by distance: a stable sort of all (glibc's qsort is a
// merge sort) or, when only the first n are returned, Redis's pqsort.
func sortPoints(pts []point, order, n int) {
	if order == sortNone {
		return
	}
	cmp := distOrder{desc: order == sortDesc}
	if n == len(pts) {
		slices.SortStableFunc(pts, func(a, b point) int { return cmp.compare(&a, &b) })
		return
	}
	pqsort(pts, cmp, 0, n-1)
}

func replyPoints(c *command.Ctx, pts []point, o *searchOpts, conv float64) {
	opts := 0
	for _, b := range []bool{o.withDist, o.withCoord, o.withHash} {
		if b {
			opts++
		}
	}
	c.W.ArrayLen(len(pts))
	for i := range pts {
		p := &pts[i]
		if opts > 0 {
			c.W.ArrayLen(opts + 1)
		}
		c.W.Bulk(p.member)
		if o.withDist {
			replyDistance(c, p.dist/conv)
		}
		if o.withHash {
			c.W.Int(int64(p.score))
		}
		if o.withCoord {
			c.W.ArrayLen(2)
			replyCoord(c, p.lon)
			replyCoord(c, p.lat)
		}
	}
}

func storePoints(c *command.Ctx, pts []point, o *searchOpts, conv float64, flags int) {
	key := o.storeKey
	if len(pts) == 0 {
		deleteStore(c, key)
		c.W.Int(0)
		return
	}
	entries := make([]zset.Entry, len(pts))
	for i := range pts {
		score := pts[i].score
		if o.storeDist {
			score = pts[i].dist / conv
		}
		entries[i] = zset.Entry{Member: pts[i].member, Score: score}
	}
	z := zset.FromSorted(c.Limits().Encoding.ZSet, entries)
	if e := c.LookupWrite(key); e != nil {
		c.DB.DeleteEntry(e)
	}
	c.DB.AddObject(key, keyspace.TypeZSet, z)
	c.Modified(key)
	c.AddDirty(int64(len(pts) - 1))
	event := "georadiusstore"
	if flags&geoSearch != 0 {
		event = "geosearchstore"
	}
	c.Notify(command.NotifyZSet, event, key)
	c.SignalReady(key)
	c.W.Int(int64(len(pts)))
}
