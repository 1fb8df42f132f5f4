package expt

import (
	"fmt"
	"math/rand/v2"
)

// Word lists for made-up experiment names, as the original platform makes
// them: two random words and a number ("brisk-falcon-42").
var (
	nameAdjectives = []string{
		"amber", "bold", "brisk", "calm", "clever", "cosmic", "crisp", "daring", "eager", "fancy",
		"gentle", "golden", "happy", "hidden", "jolly", "keen", "lively", "lucky", "mellow", "misty",
		"noble", "polar", "proud", "quiet", "rapid", "royal", "rustic", "shiny", "silent", "solar",
		"spry", "stellar", "swift", "tidy", "vivid", "warm", "wild", "wise", "witty", "zesty",
	}
	nameNouns = []string{
		"badger", "beacon", "breeze", "canyon", "cedar", "comet", "coral", "delta", "ember", "falcon",
		"fern", "fjord", "galaxy", "glacier", "harbor", "heron", "island", "lagoon", "lynx", "maple",
		"meadow", "nebula", "oasis", "orbit", "otter", "panda", "pebble", "pine", "prairie", "quasar",
		"raven", "reef", "river", "sparrow", "summit", "tiger", "tundra", "valley", "willow", "zephyr",
	}
)

// RandomName makes up an experiment name.
func RandomName() string {
	return fmt.Sprintf("%s-%s-%d",
		nameAdjectives[rand.IntN(len(nameAdjectives))],
		nameNouns[rand.IntN(len(nameNouns))],
		rand.IntN(1000))
}
