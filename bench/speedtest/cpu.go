package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// cpuTimes is what the machine's CPUs did since boot, in clock ticks: busy and in total.
type cpuTimes struct{ busy, total uint64 }

// readCPUTimes reads the machine's CPU times from /proc/stat; ok is false where there is
// none (not Linux).
func readCPUTimes() (t cpuTimes, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, false
	}
	return parseCPUTimes(b)
}

// parseCPUTimes reads the summary "cpu" line of /proc/stat: user, nice, system, idle,
// iowait, irq, softirq, steal (later fields, guest time, are already counted in user).
// Idle and iowait are not busy.
func parseCPUTimes(stat []byte) (t cpuTimes, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(stat))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[0] != "cpu" {
			continue
		}
		for i, f := range fields[1:min(len(fields), 9)] {
			v, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return cpuTimes{}, false
			}
			t.total += v
			if i != 3 && i != 4 { // idle, iowait
				t.busy += v
			}
		}
		return t, t.total > 0
	}
	return cpuTimes{}, false
}

// busySince returns the share of CPU time that was busy between start and t, from 0 to 1.
func (t cpuTimes) busySince(start cpuTimes) float64 {
	if t.total <= start.total {
		return 0
	}
	return float64(t.busy-start.busy) / float64(t.total-start.total)
}

// starvedCPU is the share of busy CPU time above which the browsers were likely waiting for
// CPU: their paints then come later for want of CPU, not of network.
const starvedCPU = 0.85
