package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCPUTimes(t *testing.T) {
	stat := []byte("cpu  100 5 50 800 20 3 2 10 7 0\ncpu0 50 2 25 400 10 1 1 5 3 0\nintr 12345\n")
	got, ok := parseCPUTimes(stat)
	require.True(t, ok)
	// user+nice+system+irq+softirq+steal busy; idle and iowait not; guest fields not added.
	assert.Equal(t, cpuTimes{busy: 100 + 5 + 50 + 3 + 2 + 10, total: 100 + 5 + 50 + 800 + 20 + 3 + 2 + 10}, got)

	later, ok := parseCPUTimes([]byte("cpu  400 5 150 900 20 3 2 10 7 0\n"))
	require.True(t, ok)
	assert.InDelta(t, 400.0/500.0, later.busySince(got), 1e-9)
	assert.Zero(t, got.busySince(later), "a clock that went backwards gives no figure")

	for _, bad := range []string{"", "intr 1 2 3\n", "cpu  1 2 x 4 5\n", "cpu  0 0 0 0 0\n"} {
		_, ok := parseCPUTimes([]byte(bad))
		assert.False(t, ok, "%q", bad)
	}
}

func TestReadCPUTimesOnThisMachine(t *testing.T) {
	first, ok := readCPUTimes()
	if !ok {
		t.Skip("no /proc/stat here")
	}
	second, ok := readCPUTimes()
	require.True(t, ok)
	assert.GreaterOrEqual(t, second.total, first.total)
	assert.Positive(t, first.busy)
}
